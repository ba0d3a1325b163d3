/**
 * in-toto Statements (in-toto attestation framework, Statement layer v1 and
 * the older v0.1) carried as DSSE payloads of type
 * application/vnd.in-toto+json. What the log needs from one: its subjects
 * (name and digests; the SHA-256 ones become lookups), its predicateType,
 * and for SLSA provenance the builder id (v1: predicate.runDetails.builder.id,
 * v0.2: predicate.builder.id) that monitor policies can allow-list.
 *
 * A Statement with no subject, or whose subjects carry no SHA-256 digest at
 * all, is refused: the log could not index it by what it attests.
 */
import { hexDecode } from '../encoding.js';
import { InvalidError, MalformedError } from '../errors.js';
import { fromUtf8 } from '../encoding.js';
import { IN_TOTO_PAYLOAD_TYPE, jsonObject, jsonString, type DsseEnvelope } from './dsse.js';
import { parseStrictJson } from './strict-json.js';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
/** Most subjects one Statement may name. */
export const MAX_SUBJECTS = 1024;

export interface Subject {
  readonly name: string;
  /** The subject's digests by algorithm name, lowercase hex as written. */
  readonly digest: Readonly<Record<string, string>>;
  /** The SHA-256 digest's bytes, when the subject has one. */
  readonly sha256: Uint8Array | undefined;
}

export interface Statement {
  readonly type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  readonly subjects: readonly Subject[];
  readonly predicateType: string;
  /** The SLSA builder id for SLSA provenance v1 / v0.2, otherwise undefined. */
  readonly builderId: string | undefined;
}

/** The Statement inside an envelope; refuses any other payloadType. */
export function statementOf(envelope: DsseEnvelope): Statement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new InvalidError(`DSSE envelope payloadType: "${envelope.payloadType}" is not an in-toto Statement (expected "${IN_TOTO_PAYLOAD_TYPE}")`);
  }
  return parseStatement(envelope.payload);
}

export function parseStatement(payload: Uint8Array): Statement {
  const obj = jsonObject(parseStrictJson(fromUtf8(payload, 'in-toto Statement'), 'in-toto Statement'), 'in-toto Statement');
  const type = jsonString(obj._type, 'in-toto Statement _type');
  if (type !== STATEMENT_V1 && type !== STATEMENT_V01) {
    throw new InvalidError(`in-toto Statement _type: "${type}" is not ${STATEMENT_V1} or ${STATEMENT_V01}`);
  }
  if (obj.subject === undefined) throw new InvalidError('in-toto Statement subject: the Statement has no subject');
  if (!Array.isArray(obj.subject)) throw new MalformedError('in-toto Statement subject: must be an array');
  if (obj.subject.length === 0) throw new InvalidError('in-toto Statement subject: the Statement has no subject');
  if (obj.subject.length > MAX_SUBJECTS) throw new InvalidError(`in-toto Statement subject: ${obj.subject.length} subjects, more than the limit of ${MAX_SUBJECTS}`);
  const subjects = obj.subject.map((s: unknown, i: number) => parseSubject(s, `in-toto Statement subject[${i}]`));
  if (!subjects.some((s) => s.sha256 !== undefined)) {
    throw new InvalidError('in-toto Statement subject: no subject has a sha256 digest, so the attestation cannot be looked up by artifact digest');
  }
  const predicateType = jsonString(obj.predicateType, 'in-toto Statement predicateType');
  if (predicateType.length === 0) throw new MalformedError('in-toto Statement predicateType: must not be empty');
  let predicate: Record<string, unknown> | undefined;
  if (obj.predicate !== undefined && obj.predicate !== null) predicate = jsonObject(obj.predicate, 'in-toto Statement predicate');
  return { type, subjects, predicateType, builderId: builderIdOf(predicateType, predicate) };
}

function parseSubject(value: unknown, field: string): Subject {
  const s = jsonObject(value, field);
  const name = s.name === undefined ? '' : jsonString(s.name, `${field}.name`);
  const digestObj = jsonObject(s.digest, `${field}.digest`);
  const digest: Record<string, string> = {};
  const names = Object.keys(digestObj);
  if (names.length === 0) throw new MalformedError(`${field}.digest: no digest`);
  let sha256: Uint8Array | undefined;
  for (const alg of names) {
    const text = jsonString(digestObj[alg], `${field}.digest.${alg}`);
    digest[alg] = text;
    if (alg === 'sha256') {
      if (!/^[0-9a-f]{64}$/.test(text)) throw new MalformedError(`${field}.digest.sha256: must be 64 lowercase hex digits`);
      sha256 = hexDecode(text, `${field}.digest.sha256`, 32);
    }
  }
  return { name, digest, sha256 };
}

function builderIdOf(predicateType: string, predicate: Record<string, unknown> | undefined): string | undefined {
  if (predicate === undefined) return undefined;
  let builder: unknown;
  if (predicateType === SLSA_PROVENANCE_V1) {
    const run = predicate.runDetails;
    builder = isObject(run) ? run.builder : undefined;
  } else if (predicateType === SLSA_PROVENANCE_V02) {
    builder = predicate.builder;
  } else return undefined;
  if (!isObject(builder)) throw new InvalidError(`in-toto Statement predicate: SLSA provenance without a builder (${predicateType === SLSA_PROVENANCE_V1 ? 'runDetails.builder' : 'builder'})`);
  return jsonString(builder.id, 'in-toto Statement predicate builder.id');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
