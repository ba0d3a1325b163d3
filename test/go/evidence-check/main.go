// Command evidence-check is an independent checker of Vitrine's evidence
// documents, written against Go's golang.org/x/mod/sumdb/note (signed notes)
// and the standard library only, sharing no code with Vitrine. It reads the
// log's vkey and a document, and exits 0 when the document proves
// misbehaviour by that log, 1 when it does not, 2 on a usage error.
//
//	evidence-check <vkey> <document.json>
//
// Documents:
//   - "vitrine-evidence/v1" (split view): two checkpoints signed by the log,
//     either of one size with different roots (empty proof), or sizes m < n
//     where the RFC 9162 section 2.1.4.2 loop over "proof", without
//     prepending the first root, gives the larger tree's signed root as its
//     second root and a first root other than the smaller tree's root.
//   - "vitrine-rollback/v1": two checkpoints signed by the log, the first
//     larger than the second; that the second was served later is the
//     observer's report ("observed"), printed but not provable.
//
// Checkpoints follow c2sp.org/tlog-checkpoint: origin, decimal size, base64
// root hash, then optional extension lines.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type observation struct {
	From string `json:"from"`
	At   string `json:"at"`
}

type document struct {
	Type        string        `json:"type"`
	Origin      string        `json:"origin"`
	Checkpoints []string      `json:"checkpoints"`
	Proof       []string      `json:"proof"`
	Observed    []observation `json:"observed"`
}

type checkpoint struct {
	size uint64
	root []byte
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "evidence-check: does not prove misbehaviour: "+format+"\n", args...)
	os.Exit(1)
}

func open(text string, verifiers note.Verifiers, origin string) checkpoint {
	n, err := note.Open([]byte(text), verifiers)
	if err != nil {
		fail("a checkpoint is not validly signed by the log: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("a checkpoint body is not origin, size, root hash lines")
	}
	if lines[0] != origin {
		fail("a checkpoint is for origin %q, not %q", lines[0], origin)
	}
	if lines[1] == "" || (len(lines[1]) > 1 && lines[1][0] == '0') {
		fail("a checkpoint size %q is not canonical decimal", lines[1])
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		fail("a checkpoint size %q is not a decimal number", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != sha256.Size {
		fail("a checkpoint root hash is not base64 of 32 bytes")
	}
	return checkpoint{size, root}
}

func nodeHash(left, right []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(left)
	h.Write(right)
	return h.Sum(nil)
}

// roots runs the RFC 9162 section 2.1.4.2 verification loop over proof for
// sizes m < n, without prepending the first root, and returns the two roots.
func roots(m, n uint64, proof [][]byte) (rootM, rootN []byte, ok bool) {
	if len(proof) == 0 {
		return nil, nil, false
	}
	fn, sn := m-1, n-1
	for fn&1 == 1 {
		fn >>= 1
		sn >>= 1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return nil, nil, false
		}
		if fn&1 == 1 || fn == sn {
			fr = nodeHash(c, fr)
			sr = nodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			sr = nodeHash(sr, c)
		}
		fn >>= 1
		sn >>= 1
	}
	return fr, sr, sn == 0
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: evidence-check <vkey> <document.json>")
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fmt.Fprintf(os.Stderr, "evidence-check: bad vkey: %v\n", err)
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "evidence-check: %v\n", err)
		os.Exit(2)
	}
	var doc document
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		fail("not a valid document: %v", err)
	}
	if doc.Origin != verifier.Name() {
		fail("origin %q is not the log key's name %q", doc.Origin, verifier.Name())
	}
	if len(doc.Checkpoints) != 2 {
		fail("there must be exactly two checkpoints")
	}
	verifiers := note.VerifierList(verifier)
	a := open(doc.Checkpoints[0], verifiers, doc.Origin)
	b := open(doc.Checkpoints[1], verifiers, doc.Origin)
	switch doc.Type {
	case "vitrine-rollback/v1":
		if doc.Proof != nil {
			fail("a rollback document has no proof field")
		}
		if a.size <= b.size {
			fail("the first checkpoint (size %d) is not larger than the second (size %d)", a.size, b.size)
		}
		fmt.Printf("rollback: %s signed a tree of size %d and one of size %d; observed serving the smaller after: %v\n", doc.Origin, a.size, b.size, doc.Observed)
	case "vitrine-evidence/v1":
		if a.size > b.size {
			a, b = b, a
		}
		proof := make([][]byte, len(doc.Proof))
		for i, p := range doc.Proof {
			h, err := base64.StdEncoding.DecodeString(p)
			if err != nil || len(h) != sha256.Size {
				fail("proof[%d] is not base64 of 32 bytes", i)
			}
			proof[i] = h
		}
		if a.size == b.size {
			if len(proof) != 0 || bytes.Equal(a.root, b.root) {
				fail("same size needs different roots and an empty proof")
			}
			fmt.Printf("split view: %s signed two trees of size %d\n", doc.Origin, a.size)
			break
		}
		if a.size == 0 {
			fail("the empty tree is a prefix of every tree")
		}
		rootM, rootN, ok := roots(a.size, b.size, proof)
		if !ok || !bytes.Equal(rootN, b.root) {
			fail("the proof does not reproduce the signed root of size %d", b.size)
		}
		if bytes.Equal(rootM, a.root) {
			fail("the tree of size %d extends the tree of size %d", b.size, a.size)
		}
		fmt.Printf("split view: %s signed a tree of size %d that does not extend its tree of size %d\n", doc.Origin, b.size, a.size)
	default:
		fail("unknown type %q", doc.Type)
	}
}
