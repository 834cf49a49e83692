/**
 * The first tier above the interpreter: a hot block gets a generated JavaScript function that
 * calls its instructions' handlers in sequence, each from its own call site. Every call site then
 * sees exactly one handler, so the JavaScript engine can inline the handlers into the block and
 * drop the per-instruction indirect call of the interpreter loop. Semantics stay in the handlers:
 * nothing here knows an instruction.
 *
 * Before each instruction the function records its index in `c.blockIndex`, so a fault can rewind
 * EIP to the faulting instruction exactly as the interpreter does.
 *
 * Uses `new Function`, which browsers allow unless a Content-Security-Policy forbids eval; the
 * interpreter remains the fallback (Cpu.compileBlocks = false).
 */
import type { Cpu } from './cpu.js';
import type { Handler, Insn } from './insn.js';

export type CompiledBlock = (c: Cpu) => void;

/** Blocks run this many times in the interpreter before they are compiled. */
export const COMPILE_THRESHOLD = 64;

const factories = new Map<number, (h: Handler[], i: Insn[]) => CompiledBlock>();

/** One factory per block length: the generated source depends only on how many instructions. */
function factory(n: number): (h: Handler[], i: Insn[]) => CompiledBlock {
  let f = factories.get(n);
  if (f === undefined) {
    let body = '';
    for (let k = 0; k < n; k++) body += `c.blockIndex = ${k}; h${k}(c, i${k});\n`;
    const decl: string[] = [];
    for (let k = 0; k < n; k++) decl.push(`const h${k} = h[${k}], i${k} = i[${k}];`);
    f = new Function('h', 'i', `${decl.join('\n')}\nreturn function block(c) {\n${body}};`) as (
      h: Handler[],
      i: Insn[],
    ) => CompiledBlock;
    factories.set(n, f);
  }
  return f;
}

export function compileBlock(insns: Insn[]): CompiledBlock {
  return factory(insns.length)(
    insns.map((i) => i.exec),
    insns,
  );
}
