// The compiler's words (its describeKind) for a statement or expression of the fallback's
// syntax tree that it does not accept, so that GRADC1001 reads the same on both paths.

import type * as ES from "acorn";

/** The compiler's words for a statement or expression it does not accept (its describeKind). */
export function describe(n: ES.Node): string {
  switch (n.type) {
    case "SwitchStatement":
      return "A switch statement";
    case "TryStatement":
      return "A try statement";
    case "ThrowStatement":
      return "A throw statement";
    case "ClassDeclaration":
      return "A class declaration";
    case "LabeledStatement":
      return "A labeled statement";
    case "TemplateLiteral":
      return (n as ES.TemplateLiteral).expressions.length > 0 ? "A template string" : "'NoSubstitutionTemplateLiteral'";
    case "NewExpression":
      return "new";
    case "AwaitExpression":
      return "await";
    case "ThisExpression":
      return "this";
    case "Literal": {
      const lit = n as ES.Literal;
      if (typeof lit.value === "string") return "A string";
      if (lit.value === null && !("regex" in lit && lit.regex)) return "'NullKeyword'";
      if ("regex" in lit && lit.regex) return "'RegularExpressionLiteral'";
      return "'BigIntLiteral'";
    }
    case "UnaryExpression": {
      const op = (n as ES.UnaryExpression).operator;
      return op === "typeof" ? "'TypeOfExpression'" : op === "void" ? "'VoidExpression'" : "'DeleteExpression'";
    }
    case "UpdateExpression":
      return "'PostfixUnaryExpression'";
    case "ClassExpression":
      return "'ClassExpression'";
    case "Property":
      return (n as ES.Property).kind === "get" ? "'GetAccessor'" : (n as ES.Property).kind === "set" ? "'SetAccessor'" : "'MethodDeclaration'";
    case "SpreadElement":
      return "'SpreadAssignment'";
    default:
      return `'${n.type}'`;
  }
}
