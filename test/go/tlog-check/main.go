// Command tlog-check is an independent client of a Vitrine log's read API,
// written against Go's golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog and the standard library only, sharing no code
// with Vitrine (issue 10 §6: the Go-compatible checks of the API at every
// node). It exits 0 and prints a one-line JSON summary when every check
// passes, 1 with the first failure on stderr, 2 on a usage error.
//
//	tlog-check [-witness VKEY]... [-earlier FILE]... [-proofs N] URL VKEY
//
// Checks, at URL:
//   - GET /checkpoint opens with the log's vkey (note.Open) and is a
//     c2sp.org/tlog-checkpoint body: origin, decimal size, base64 root;
//   - every -witness vkey (type 0x04 or 0x01) has a valid
//     c2sp.org/tlog-cosignature/v1 line on it;
//   - every entry bundle (tile/entries/N[.p/W], c2sp.org/tlog-tiles: each
//     entry a big-endian uint16 length and its bytes) is read; Go's
//     tlog.StoredHashes over those entries rebuilds the tree, whose
//     tlog.TreeHash must be the signed root, and tlog.ReadTileData must give
//     byte for byte every hash tile the log serves (tlog.NewTiles(8, 0, N),
//     at c2sp paths: Go's tile/8/L/... without the height);
//   - through tlog.TileHashReader over the served tiles (which authenticates
//     each tile against the signed root), tlog.ProveRecord and
//     tlog.CheckRecord for up to -proofs records, and the log's own
//     GET /v1/proof/inclusion answers for them pass tlog.CheckRecord;
//   - for every -earlier checkpoint (a file holding a signed note of this
//     log, size m <= N): tlog.ProveTree/CheckTree from the tiles, and the
//     log's GET /v1/proof/consistency?from=m&to=N passes tlog.CheckTree.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog-check: "+format+"\n", args...)
	os.Exit(1)
}

var client = &http.Client{Timeout: 60 * time.Second}

func get(url string) []byte {
	res, err := client.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	if res.StatusCode != 200 {
		fail("GET %s: status %d: %s", url, res.StatusCode, body)
	}
	return body
}

// c2spPath is Go's tile path without the height element: tile/L/N[.p/W],
// and tile/entries/N[.p/W] for data tiles.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	prefix := fmt.Sprintf("tile/%d/", t.H)
	if !strings.HasPrefix(p, prefix) {
		fail("unexpected Go tile path %q", p)
	}
	rest := p[len(prefix):]
	if strings.HasPrefix(rest, "data/") {
		rest = "entries/" + rest[len("data/"):]
	}
	return "tile/" + rest
}

type tileReader struct {
	base  string
	cache map[string][]byte
	reads int
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := c2spPath(t)
		if d, ok := r.cache[p]; ok {
			out[i] = d
			continue
		}
		d := get(r.base + "/" + p)
		if len(d) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", p, len(d), t.W*tlog.HashSize)
		}
		r.reads++
		r.cache[p] = d
		out[i] = d
	}
	return out, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
	text   string
	sigs   []note.Signature
}

func openCheckpoint(text []byte, v note.Verifier, what string) checkpoint {
	n, err := note.Open(text, note.VerifierList(v))
	if err != nil {
		fail("%s does not open with the log key: %v", what, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("%s: body is not origin, size, root hash lines", what)
	}
	if lines[1] == "" || (len(lines[1]) > 1 && lines[1][0] == '0') {
		fail("%s: size %q is not canonical decimal", what, lines[1])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("%s: size %q: %v", what, lines[1], err)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		fail("%s: root hash is not base64 of 32 bytes", what)
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{origin: lines[0], size: size, root: root, text: n.Text, sigs: n.UnverifiedSigs}
}

// checkCosignature verifies the tlog-cosignature/v1 line of witness vkey on cp.
func checkCosignature(cp checkpoint, vkey string) string {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		fail("-witness %q is not a vkey", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || (raw[0] != 0x01 && raw[0] != 0x04) {
		fail("-witness %q: not an Ed25519 (0x01) or cosignature (0x04) key", vkey)
	}
	pub := ed25519.PublicKey(raw[1:])
	h := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), pub...))
	id := binary.BigEndian.Uint32(h[:4])
	for _, s := range cp.sigs {
		if s.Name != parts[0] || s.Hash != id {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil || len(sig) != 4+8+ed25519.SignatureSize {
			fail("the cosignature of %s is not key ID, timestamp and signature", parts[0])
		}
		ts := binary.BigEndian.Uint64(sig[4:12])
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, cp.text)
		if ts == 0 || !ed25519.Verify(pub, []byte(msg), sig[12:]) {
			fail("the cosignature of %s does not verify", parts[0])
		}
		return parts[0]
	}
	fail("the checkpoint carries no cosignature of %s", parts[0])
	return ""
}

type proofAnswer struct {
	Index int64    `json:"index"`
	Proof []string `json:"proof"`
}

func hashes(strs []string, what string) []tlog.Hash {
	out := make([]tlog.Hash, len(strs))
	for i, s := range strs {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			fail("%s: hash %d is not base64 of 32 bytes", what, i)
		}
		copy(out[i][:], b)
	}
	return out
}

func main() {
	var witnesses, earlier list
	flag.Var(&witnesses, "witness", "a witness vkey whose cosignature /checkpoint must carry (repeatable)")
	flag.Var(&earlier, "earlier", "a file holding an earlier signed checkpoint of this log (repeatable)")
	proofs := flag.Int("proofs", 64, "how many records to prove (spread over the tree)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: tlog-check [-witness VKEY]... [-earlier FILE]... [-proofs N] URL VKEY")
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	base := strings.TrimRight(flag.Arg(0), "/")
	verifier, err := note.NewVerifier(flag.Arg(1))
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlog-check: the log vkey: %v\n", err)
		os.Exit(2)
	}

	cp := openCheckpoint(get(base+"/checkpoint"), verifier, "GET /checkpoint")
	cosigned := []string{}
	for _, w := range witnesses {
		cosigned = append(cosigned, checkCosignature(cp, w))
	}

	// The entries, from the entry bundles.
	var entries [][]byte
	for k := int64(0); k*256 < cp.size; k++ {
		w := cp.size - k*256
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: k, W: int(w)}
		data := get(base + "/" + c2spPath(t))
		count := int64(0)
		for o := 0; o < len(data); {
			if o+2 > len(data) {
				fail("%s: truncated length prefix", c2spPath(t))
			}
			n := int(binary.BigEndian.Uint16(data[o:]))
			if o+2+n > len(data) {
				fail("%s: truncated entry", c2spPath(t))
			}
			entries = append(entries, data[o+2:o+2+n])
			o += 2 + n
			count++
		}
		if count != w {
			fail("%s: %d entries, want %d", c2spPath(t), count, w)
		}
	}

	// Go rebuilds the tree from the entries alone.
	var stored []tlog.Hash
	storedReader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d not computed", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, storedReader)
		if err != nil {
			fail("StoredHashes(%d): %v", i, err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(cp.size, storedReader)
	if err != nil {
		fail("TreeHash: %v", err)
	}
	if root != cp.root {
		fail("the root Go computes from the %d entries is %s, the checkpoint says %s", cp.size, root, cp.root)
	}
	tr := &tileReader{base: base, cache: map[string][]byte{}}
	tiles := tlog.NewTiles(8, 0, cp.size)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, storedReader)
		if err != nil {
			fail("ReadTileData %s: %v", t.Path(), err)
		}
		got, err := tr.ReadTiles([]tlog.Tile{t})
		if err != nil {
			fail("%v", err)
		}
		if !bytes.Equal(got[0], want) {
			fail("%s is not the tile Go computes from the entries", c2spPath(t))
		}
	}

	// Proofs, through the served tiles authenticated against the signed root.
	thr := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tr)
	step := int64(1)
	if *proofs > 0 && cp.size > int64(*proofs) {
		step = cp.size / int64(*proofs)
	}
	proved := 0
	for i := int64(0); *proofs > 0 && i < cp.size; i += step {
		leaf := tlog.RecordHash(entries[i])
		p, err := tlog.ProveRecord(cp.size, i, thr)
		if err != nil {
			fail("ProveRecord(%d) from the served tiles: %v", i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, i, leaf); err != nil {
			fail("CheckRecord(%d) of the tile proof: %v", i, err)
		}
		var ans proofAnswer
		url := fmt.Sprintf("%s/v1/proof/inclusion?leaf=%s&size=%d", base, hex.EncodeToString(leaf[:]), cp.size)
		if err := json.Unmarshal(get(url), &ans); err != nil {
			fail("%s: %v", url, err)
		}
		if ans.Index != i {
			fail("%s: index %d, want %d", url, ans.Index, i)
		}
		if err := tlog.CheckRecord(tlog.RecordProof(hashes(ans.Proof, url)), cp.size, cp.root, i, leaf); err != nil {
			fail("the log's inclusion proof for %d fails tlog.CheckRecord: %v", i, err)
		}
		proved++
	}

	consistent := 0
	for _, f := range earlier {
		text, err := os.ReadFile(f)
		if err != nil {
			fail("-earlier %s: %v", f, err)
		}
		old := openCheckpoint(text, verifier, f)
		if old.origin != cp.origin {
			fail("%s is for origin %q, the log serves %q", f, old.origin, cp.origin)
		}
		if old.size > cp.size {
			fail("%s has size %d, larger than the %d served: the log went back", f, old.size, cp.size)
		}
		if old.size == 0 {
			continue
		}
		p, err := tlog.ProveTree(cp.size, old.size, thr)
		if err != nil {
			fail("ProveTree(%d, %d): %v", cp.size, old.size, err)
		}
		if err := tlog.CheckTree(p, cp.size, cp.root, old.size, old.root); err != nil {
			fail("%s (size %d) is not a prefix of the served tree: %v", f, old.size, err)
		}
		var ans struct {
			Proof []string `json:"proof"`
		}
		url := fmt.Sprintf("%s/v1/proof/consistency?from=%d&to=%d", base, old.size, cp.size)
		if err := json.Unmarshal(get(url), &ans); err != nil {
			fail("%s: %v", url, err)
		}
		if err := tlog.CheckTree(tlog.TreeProof(hashes(ans.Proof, url)), cp.size, cp.root, old.size, old.root); err != nil {
			fail("the log's consistency proof %d -> %d fails tlog.CheckTree: %v", old.size, cp.size, err)
		}
		consistent++
	}

	summary, _ := json.Marshal(map[string]interface{}{
		"origin": cp.origin, "size": cp.size, "root": base64.StdEncoding.EncodeToString(cp.root[:]),
		"tiles": len(tiles), "proved": proved, "consistent": consistent, "cosigned": cosigned,
	})
	fmt.Println(string(summary))
}
