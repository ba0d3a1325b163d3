#!/usr/bin/env node
/**
 * The `vitrine` command line. Each subcommand lives in its own module that
 * exports `register(program, io)`; cmd/program.ts wires them together and
 * this file runs it on the process's own streams. Only cmd/ reads
 * process.argv or calls listen().
 */
import { EXIT_OK } from './common.js';
import { processIo } from './io.js';
import { run } from './program.js';

const code = await run(process.argv.slice(2), processIo);
// A failure ends the process at once, as before; success lets pending output drain.
if (code !== EXIT_OK) process.exit(code);
