/** Loads every opcode module so the tables in ops/table.ts are complete. */
import './alu.js';
import './move.js';
import './control.js';
import './system.js';
import './io.js';
import './shift.js';
import './string.js';
import './bits.js';
import './bcd.js';
import './x87.js';
