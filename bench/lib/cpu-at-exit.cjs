// Preloaded (`node --require`) into a process the compile bench times: at exit, writes the
// process's CPU time (user + system, all threads, in ms) to file descriptor 3, so the bench can
// report CPU next to wall time, which on a busy machine says more about the work itself.
const { writeSync } = require("node:fs");
process.on("exit", () => {
  const { user, system } = process.cpuUsage();
  try {
    writeSync(3, `${(user + system) / 1000}\n`);
  } catch {
    // Not run by the bench: no descriptor 3.
  }
});
