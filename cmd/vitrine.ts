#!/usr/bin/env node
/**
 * The `vitrine` command line. Each subcommand lives in its own module that
 * exports `register(program)`; this file only wires them together. Only
 * cmd/ reads process.argv or calls listen().
 */
import { Command } from 'commander';
import { fail, type Register } from './common.js';
// Command modules: one import line each, added to `commands` below.
import { register as keygen } from './keygen.js';
import { register as sign } from './sign.js';
import { register as verify } from './verify.js';
import { register as verifyEvidence } from './verify-evidence.js';
import { register as serve } from './serve.js';
import { register as submit } from './submit.js';
import { register as monitor } from './monitor.js';
import { register as migrate } from './migrate.js';

const commands: Register[] = [keygen, sign, verify, verifyEvidence, serve, submit, monitor, migrate];

const program = new Command('vitrine')
  .description('Vitrine: a binary transparency log for software releases.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();
program.configureOutput({ writeErr: (s) => process.stderr.write(s) });

for (const register of commands) register(program);

program.parseAsync(process.argv).catch(fail);
