#!/usr/bin/env bash
# Records fixed vectors of the native signature kinds (docs/formats.md §14,
# §15, §16) from the real tools: ssh-keygen, minisign, openssl, and for DSSE
# the PAE of @sigstore/core signed by `openssl pkeyutl`. Every expected value
# in vectors.json (digests, fingerprints, key IDs) comes from these tools or
# coreutils, never from Vitrine. Each accepted signature is also checked by
# the tool that verifies it (ssh-keygen -Y verify, minisign -V, openssl).
#
#   vectors/native/make.sh        (from the repository root; needs node_modules)
#
# Keys are new on each run, so re-running replaces every file; commit them
# together. See vectors/native/README.md for what each file is.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD
root=$(cd ../.. && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
find "$out" -mindepth 1 -maxdepth 1 ! -name make.sh ! -name README.md -exec rm -rf {} +
cd "$work"

printf 'vitrine native vector artifact\nversion 1.0.0\n' > artifact.txt
printf 'another file\n' > other.txt
cp artifact.txt "$out/artifact.txt"

b64fp() { openssl dgst -sha256 -binary | base64 -w0 | tr -d '='; }
pem_fp() { printf 'SHA256:%s' "$(openssl pkey -pubin -in "$1" -outform DER | b64fp)"; }
ssh_fp() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }

# --- ssh-keygen -Y sign: ed25519 and ecdsa-p256, sha512 (default) and sha256
for type in ed25519 ecdsa; do
  bits=(); [ "$type" = ecdsa ] && bits=(-b 256)
  ssh-keygen -q -t "$type" "${bits[@]}" -N '' -C "vectors@vitrine" -f "ssh-$type"
  cp "ssh-$type.pub" "$out/"
  printf 'vectors@vitrine %s\n' "$(cut -d' ' -f1,2 "ssh-$type.pub")" > "signers-$type"
  for alg in sha512 sha256; do
    ssh-keygen -q -Y sign -n file -O hashalg=$alg -f "ssh-$type" artifact.txt 2>/dev/null
    ssh-keygen -q -Y verify -n file -I vectors@vitrine -f "signers-$type" -s artifact.txt.sig < artifact.txt >/dev/null
    mv artifact.txt.sig "$out/ssh-$type-$alg.sig"
  done
done
# A signature made in another namespace, and one by an RSA key (refused).
ssh-keygen -q -Y sign -n git -f ssh-ed25519 artifact.txt 2>/dev/null
mv artifact.txt.sig "$out/ssh-ed25519-namespace-git.sig"
ssh-keygen -q -t rsa -b 2048 -N '' -f ssh-rsa
ssh-keygen -q -Y sign -n file -f ssh-rsa artifact.txt 2>/dev/null
mv artifact.txt.sig "$out/ssh-rsa.sig"
cp ssh-rsa.pub "$out/"
# The armor cut after its third line.
head -n 3 "$out/ssh-ed25519-sha512.sig" > "$out/ssh-truncated.sig"

# --- minisign -S (prehashed ED), a custom trusted comment; legacy -l (refused)
minisign -G -W -p minisign.pub -s minisign.key >/dev/null
cp minisign.pub "$out/"
minisign -S -s minisign.key -m artifact.txt -t 'vitrine vectors 1.0.0' >/dev/null
minisign -V -p minisign.pub -m artifact.txt >/dev/null
mv artifact.txt.minisig "$out/minisign.minisig"
minisign -S -l -s minisign.key -m artifact.txt >/dev/null
mv artifact.txt.minisig "$out/minisign-legacy.minisig"
minisign_id=$(head -n 1 minisign.pub | awk '{print $NF}')
minisign -G -W -p minisign-other.pub -s minisign-other.key >/dev/null
cp minisign-other.pub "$out/"

# --- openssl ECDSA P-256 over SHA-256: DER, raw r||s, DER in base64 (cosign)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ecdsa.key 2>/dev/null
openssl pkey -in ecdsa.key -pubout -out "$out/ecdsa.pub.pem"
openssl dgst -sha256 -sign ecdsa.key -out "$out/ecdsa.der.sig" artifact.txt
openssl dgst -sha256 -verify "$out/ecdsa.pub.pem" -signature "$out/ecdsa.der.sig" artifact.txt >/dev/null
# r and s as openssl prints them (hex), each left-padded to 32 bytes.
ints=($(openssl asn1parse -inform DER -in "$out/ecdsa.der.sig" | awk -F: '/INTEGER/ {sub(/^0+/, "", $NF); print $NF}'))
printf '%64s%64s' "${ints[0]}" "${ints[1]}" | tr ' ' 0 | xxd -r -p > "$out/ecdsa.raw.sig"
[ "$(stat -c %s "$out/ecdsa.raw.sig")" = 64 ] || { echo "make.sh: raw r||s is not 64 bytes" >&2; exit 1; }
base64 -w0 "$out/ecdsa.der.sig" > "$out/ecdsa.b64.sig"
# The compressed form of the same key (one key, two DER spellings).
openssl ec -pubin -in "$out/ecdsa.pub.pem" -conv_form compressed -pubout -out "$out/ecdsa-compressed.pub.pem" 2>/dev/null
# An RSA key and its signature (refused), and a PEM cut in half (refused).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl pkey -in rsa.key -pubout -out "$out/rsa.pub.pem"
openssl dgst -sha256 -sign rsa.key -out "$out/rsa.sig" artifact.txt
head -n 2 "$out/ecdsa.pub.pem" > "$out/ecdsa-truncated.pub.pem"

# --- DSSE: PAE from @sigstore/core, signatures by openssl pkeyutl
openssl genpkey -algorithm ed25519 -out dsse-ed25519.key
openssl pkey -in dsse-ed25519.key -pubout -out "$out/dsse-ed25519.pub.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out dsse-p256.key 2>/dev/null
openssl pkey -in dsse-p256.key -pubout -out "$out/dsse-p256.pub.pem"
artifact_sha256=$(sha256sum artifact.txt | cut -d' ' -f1)
other_sha256=$(sha256sum other.txt | cut -d' ' -f1)
jq -cn --arg a "$artifact_sha256" --arg o "$other_sha256" '{
  _type: "https://in-toto.io/Statement/v1",
  subject: [{name: "pkg:generic/vectors@1.0.0", digest: {sha256: $a}}, {name: "pkg:generic/vectors@1.0.0?file=other", digest: {sha256: $o}}],
  predicateType: "https://slsa.dev/provenance/v1",
  predicate: {buildDefinition: {buildType: "https://example.com/vectors"}, runDetails: {builder: {id: "https://example.com/builder"}}}
}' | tr -d '\n' > statement.json
payload_type=application/vnd.in-toto+json
(cd "$root" && node --input-type=module -e '
  import { dsse } from "@sigstore/core";
  import { readFileSync, writeFileSync } from "node:fs";
  const [type, input, output] = process.argv.slice(1);
  writeFileSync(output, dsse.preAuthEncoding(type, readFileSync(input)));
' "$payload_type" "$work/statement.json" "$work/pae")
openssl pkeyutl -sign -rawin -inkey dsse-ed25519.key -in pae -out sig-ed25519
openssl pkeyutl -verify -rawin -pubin -inkey "$out/dsse-ed25519.pub.pem" -in pae -sigfile sig-ed25519 >/dev/null
openssl pkeyutl -sign -rawin -digest sha256 -inkey dsse-p256.key -in pae -out sig-p256
openssl pkeyutl -verify -rawin -digest sha256 -pubin -inkey "$out/dsse-p256.pub.pem" -in pae -sigfile sig-p256 >/dev/null
jq -cn --arg t "$payload_type" --arg p "$(base64 -w0 statement.json)" \
  --arg e "$(base64 -w0 sig-ed25519)" --arg c "$(base64 -w0 sig-p256)" \
  '{payloadType: $t, payload: $p, signatures: [{keyid: "ed25519-key", sig: $e}, {sig: $c}]}' > "$out/dsse.intoto.json"
cp pae "$out/dsse.pae"

# --- The manifest: every expected value from the tools above.
jq -n \
  --arg sha256 "$artifact_sha256" \
  --arg sha512 "$(sha512sum artifact.txt | cut -d' ' -f1)" \
  --arg blake2b512 "$(b2sum -l 512 artifact.txt | cut -d' ' -f1)" \
  --arg other "$other_sha256" \
  --arg fp_ssh_ed "$(ssh_fp ssh-ed25519.pub)" --arg fp_ssh_ec "$(ssh_fp ssh-ecdsa.pub)" \
  --arg fp_ecdsa "$(pem_fp "$out/ecdsa.pub.pem")" --arg fp_ecdsa_c "$(pem_fp "$out/ecdsa-compressed.pub.pem")" \
  --arg fp_dsse_ed "$(pem_fp "$out/dsse-ed25519.pub.pem")" --arg fp_dsse_ec "$(pem_fp "$out/dsse-p256.pub.pem")" \
  --arg minisign_id "$minisign_id" \
  --arg tools "$(ssh -V 2>&1); minisign $(minisign -v | awk '{print $2}'); $(openssl version); @sigstore/core $(cd "$root" && node -p 'require("@sigstore/core/package.json").version')" \
'{
  tools: $tools,
  artifact: {file: "artifact.txt", sha256: $sha256, sha512: $sha512, blake2b512: $blake2b512},
  accepted: [
    {id: "ssh-ed25519-sha512", format: "ssh", signature: "ssh-ed25519-sha512.sig", publicKey: "ssh-ed25519.pub", namespace: "file", hash: "sha512", fingerprint: $fp_ssh_ed},
    {id: "ssh-ed25519-sha256", format: "ssh", signature: "ssh-ed25519-sha256.sig", publicKey: "ssh-ed25519.pub", namespace: "file", hash: "sha256", fingerprint: $fp_ssh_ed},
    {id: "ssh-ecdsa-sha512", format: "ssh", signature: "ssh-ecdsa-sha512.sig", publicKey: "ssh-ecdsa.pub", namespace: "file", hash: "sha512", fingerprint: $fp_ssh_ec},
    {id: "ssh-ecdsa-sha256", format: "ssh", signature: "ssh-ecdsa-sha256.sig", publicKey: "ssh-ecdsa.pub", namespace: "file", hash: "sha256", fingerprint: $fp_ssh_ec},
    {id: "minisign", format: "minisign", signature: "minisign.minisig", publicKey: "minisign.pub", hash: "blake2b512", fingerprint: $minisign_id, trustedComment: "vitrine vectors 1.0.0"},
    {id: "ecdsa-der", format: "ecdsa", signature: "ecdsa.der.sig", publicKey: "ecdsa.pub.pem", fingerprint: $fp_ecdsa},
    {id: "ecdsa-raw", format: "ecdsa", signature: "ecdsa.raw.sig", publicKey: "ecdsa.pub.pem", fingerprint: $fp_ecdsa},
    {id: "ecdsa-base64", format: "ecdsa", signature: "ecdsa.b64.sig", publicKey: "ecdsa.pub.pem", fingerprint: $fp_ecdsa},
    {id: "ecdsa-compressed-key", format: "ecdsa", signature: "ecdsa.der.sig", publicKey: "ecdsa-compressed.pub.pem", sameKeyAs: "ecdsa-der", spkiSha256Fingerprint: $fp_ecdsa_c},
    {id: "dsse", format: "dsse", envelope: "dsse.intoto.json", pae: "dsse.pae", publicKeys: ["dsse-ed25519.pub.pem", "dsse-p256.pub.pem"], fingerprints: [$fp_dsse_ed, $fp_dsse_ec],
     subjects: [{name: "pkg:generic/vectors@1.0.0", sha256: $sha256}, {name: "pkg:generic/vectors@1.0.0?file=other", sha256: $other}],
     predicateType: "https://slsa.dev/provenance/v1", builderId: "https://example.com/builder"}
  ],
  refused: [
    {id: "ssh-wrong-namespace", format: "ssh", signature: "ssh-ed25519-namespace-git.sig", namespace: "file", reason: "made in namespace git"},
    {id: "ssh-swapped-key", format: "ssh", signature: "ssh-ed25519-sha512.sig", publicKey: "ssh-ecdsa.pub", reason: "made by another key"},
    {id: "ssh-rsa", format: "ssh", signature: "ssh-rsa.sig", reason: "RSA SSH keys are not supported"},
    {id: "ssh-truncated-armor", format: "ssh", signature: "ssh-truncated.sig", reason: "the armor has no END line"},
    {id: "minisign-legacy", format: "minisign", signature: "minisign-legacy.minisig", publicKey: "minisign.pub", reason: "legacy signature of the whole file"},
    {id: "minisign-swapped-key", format: "minisign", signature: "minisign.minisig", publicKey: "minisign-other.pub", reason: "made by another key"},
    {id: "minisign-pem-key", format: "minisign", signature: "minisign.minisig", publicKey: "ecdsa.pub.pem", reason: "a PEM key is not a minisign key"},
    {id: "ecdsa-swapped-key", format: "ecdsa", signature: "ecdsa.der.sig", publicKey: "dsse-p256.pub.pem", reason: "made by another key"},
    {id: "ecdsa-rsa-key", format: "ecdsa", signature: "rsa.sig", publicKey: "rsa.pub.pem", reason: "RSA keys are not supported"},
    {id: "ecdsa-truncated-pem", format: "ecdsa", signature: "ecdsa.der.sig", publicKey: "ecdsa-truncated.pub.pem", reason: "the PEM has no END line"},
    {id: "dsse-rsa-key", format: "dsse", envelope: "dsse.intoto.json", publicKeys: ["rsa.pub.pem"], reason: "RSA keys are not supported"},
    {id: "dsse-stranger", format: "dsse", envelope: "dsse.intoto.json", publicKeys: ["ecdsa.pub.pem"], reason: "the key made no signature"}
  ],
  otherFile: {sha256: $other}
}' > "$out/vectors.json"
echo "wrote $(ls "$out" | wc -l) files to vectors/native/"
