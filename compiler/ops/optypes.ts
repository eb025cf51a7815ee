// The registry's type rules in the form the IR layer takes them (`OpTypes`): the IR builder and
// verifier are handed this object instead of importing the registry.

import type { OpTypes } from "../ir/types.js";
import { getOp, hasOp } from "./registry.js";

export const opTypes: OpTypes = {
  has: hasOp,
  infer: (op, args, attrs) => getOp(op).infer(args, attrs),
};
