#!/usr/bin/env node
/**
 * The `vitrine` command line. Each subcommand lives in its own module that
 * exports `register(program)`; cmd/program.ts wires them together and this
 * file runs it. Only cmd/ reads process.argv or calls listen().
 */
import { fail } from './common.js';
import { buildProgram } from './program.js';

const program = await buildProgram(process.argv[2]);
program.parseAsync(process.argv).catch(fail);
