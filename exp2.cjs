const Module = require("module"); const vm = require("vm"); const fs = require("fs"); const path=require("path");
const cacheDir = "/tmp/tscache"; fs.mkdirSync(cacheDir, {recursive:true});
const mode = process.argv[2];
const scripts = [];
if (mode === "cache") {
  const orig = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (!filename.includes("node_modules")) return orig.call(this, content, filename);
    const cfile = path.join(cacheDir, filename.replace(/[\/]/g, "_") + ".cache");
    let cachedData; try { cachedData = fs.readFileSync(cfile); } catch {}
    const wrapper = Module.wrap(content);
    const script = new vm.Script(wrapper, { filename, cachedData, importModuleDynamically: undefined });
    if (script.cachedDataRejected) console.error("rejected", filename);
    scripts.push([script, cfile, cachedData]);
    const fn = script.runInThisContext({ displayErrors: true });
    const req = (id) => this.require(id); req.resolve = (r, o) => Module._resolveFilename(r, this, false, o); req.cache = Module._cache; req.main = process.mainModule;
    return fn.call(this.exports, this.exports, req, this, filename, path.dirname(filename));
  };
}
const t0 = performance.now();
const { Project } = require("ts-morph");
const t1 = performance.now();
const project = new Project({ tsConfigFilePath: "tsconfig.json", skipAddingFilesFromTsConfig: true, compilerOptions: { types: [], lib: ["lib.es2023.d.ts"] } });
project.addSourceFileAtPath("examples/fxyz.ts");
project.resolveSourceFileDependencies();
project.getTypeChecker().compilerObject;
const t2 = performance.now();
console.log("load", (t1-t0).toFixed(0), "program+checker", (t2-t1).toFixed(0));
if (mode === "cache") for (const [s, f, had] of scripts) if (!had) fs.writeFileSync(f, s.createCachedData());
