package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// A frame is one request in the journal:
//
//	u32 payload length | u32 CRC-32C of the payload | payload = u64 sequence, then the event
//
// all little-endian. A frame whose length runs past the end of the segment or whose checksum does
// not match is where a crash cut a write short: it and everything after it in that segment were
// never acknowledged.
const frameHeader = 8

// maxFrame bounds a frame's payload when reading, so a damaged length cannot ask for gigabytes.
// Bodies are limited far below it by the receiver.
const maxFrame = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a frame whose length or checksum does not hold: cut short by a crash, or damaged.
var errTorn = errors.New("torn or damaged frame")

// undecodableError is a frame whose checksum holds but whose fields this version cannot read (one
// written by a newer version, or damage the checksum missed). Its sequence and size are known, so
// replay skips it alone and reports it.
type undecodableError struct {
	seq  uint64
	size int
}

func (e *undecodableError) Error() string {
	return fmt.Sprintf("journal frame %d does not decode", e.seq)
}

// appendFrame appends ev as a frame with sequence seq and returns the buffer and where ev's body
// starts and ends in it, so the importer can read the body from the journal's copy after the
// request's own buffer went back to the receiver's pool.
func appendFrame(buf []byte, seq uint64, ev *hook.Event) (_ []byte, bodyStart, bodyEnd int) {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0) // length and checksum, filled in below
	buf = binary.LittleEndian.AppendUint64(buf, seq)
	buf = appendString(buf, ev.EndpointID)
	buf = binary.AppendVarint(buf, ev.ReceivedAt.UnixNano())
	buf = binary.AppendUvarint(buf, uint64(ev.Status))
	buf = appendString(buf, ev.Method)
	buf = appendString(buf, ev.Path)
	buf = appendString(buf, ev.Query)
	n := 0
	for _, vs := range ev.Header {
		n += len(vs)
	}
	buf = binary.AppendUvarint(buf, uint64(n))
	for k, vs := range ev.Header {
		for _, v := range vs {
			buf = appendString(buf, k)
			buf = appendString(buf, v)
		}
	}
	buf, bodyStart, bodyEnd = appendOptional(buf, ev.Body)
	buf = binary.AppendVarint(buf, ev.Size)
	buf = appendString(buf, ev.RemoteAddr)
	buf = appendString(buf, ev.ClientIP)
	buf = appendString(buf, ev.DeliveryID)
	buf = appendString(buf, ev.Reason)
	buf = binary.AppendUvarint(buf, uint64(ev.ResponseStatus))
	buf = appendString(buf, ev.Type)
	buf = appendString(buf, string(ev.Verification.Scheme))
	buf = appendString(buf, string(ev.Verification.Result))
	buf = appendString(buf, ev.Verification.Reason)
	buf, _, _ = appendOptional(buf, ev.Decrypted)
	buf = binary.AppendUvarint(buf, uint64(len(ev.Forward)))
	for _, t := range ev.Forward {
		buf = appendString(buf, t)
	}
	// Fields added after the first version come last and only when set, so a frame without them
	// reads the same in every version.
	later := ev.AnsweredBy != ""
	if ev.BodyFile != "" || ev.InboxSeq != 0 || later {
		buf = appendString(buf, ev.BodyFile)
	}
	if ev.InboxSeq != 0 || later {
		buf = binary.AppendVarint(buf, ev.InboxSeq)
	}
	if later {
		buf = appendString(buf, ev.AnsweredBy)
	}
	payload := buf[start+frameHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, castagnoli))
	return buf, bodyStart, bodyEnd
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// appendOptional keeps nil (no body kept) apart from empty: 0 is nil, n+1 is n bytes.
func appendOptional(buf, b []byte) (_ []byte, start, end int) {
	if b == nil {
		return binary.AppendUvarint(buf, 0), 0, 0
	}
	buf = binary.AppendUvarint(buf, uint64(len(b))+1)
	start = len(buf)
	buf = append(buf, b...)
	return buf, start, len(buf)
}

// readFrame reads the frame at the start of b: its sequence, its event, and the bytes it took.
// The event's byte fields are copies; b may be reused.
func readFrame(b []byte) (seq uint64, ev *hook.Event, n int, err error) {
	if len(b) < frameHeader {
		return 0, nil, 0, errTorn
	}
	size := binary.LittleEndian.Uint32(b)
	if size < 8 || size > maxFrame || int(size) > len(b)-frameHeader {
		return 0, nil, 0, errTorn
	}
	payload := b[frameHeader : frameHeader+int(size)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, nil, 0, errTorn
	}
	d := decoder{b: payload[8:]}
	ev = &hook.Event{}
	ev.EndpointID = d.str()
	ev.ReceivedAt = time.Unix(0, d.varint()).UTC()
	ev.Status = hook.Status(d.uvarint())
	ev.Method, ev.Path, ev.Query = d.str(), d.str(), d.str()
	if pairs := d.uvarint(); pairs > 0 && pairs <= uint64(len(d.b)) {
		ev.Header = make(http.Header, pairs)
		for range pairs {
			k, v := d.str(), d.str()
			ev.Header[k] = append(ev.Header[k], v)
		}
	}
	ev.Body = d.optional()
	ev.Size = d.varint()
	ev.RemoteAddr, ev.ClientIP, ev.DeliveryID, ev.Reason = d.str(), d.str(), d.str(), d.str()
	ev.ResponseStatus = int(d.uvarint())
	ev.Type = d.str()
	ev.Verification = hook.Verification{Scheme: hook.Scheme(d.str()), Result: hook.VerifyResult(d.str()), Reason: d.str()}
	ev.Decrypted = d.optional()
	if targets := d.uvarint(); targets > 0 && targets <= uint64(len(d.b)) {
		for range targets {
			ev.Forward = append(ev.Forward, d.str())
		}
	}
	if len(d.b) > 0 && !d.bad {
		ev.BodyFile = d.str()
	}
	if len(d.b) > 0 && !d.bad {
		ev.InboxSeq = d.varint()
	}
	if len(d.b) > 0 && !d.bad {
		ev.AnsweredBy = d.str()
	}
	seq = binary.LittleEndian.Uint64(payload)
	if d.bad || len(d.b) != 0 {
		// The checksum matched, so this is not a torn write: a frame this version cannot read.
		return 0, nil, 0, &undecodableError{seq: seq, size: frameHeader + int(size)}
	}
	return seq, ev, frameHeader + int(size), nil
}

// decoder reads a frame's fields; a short or malformed field sets bad and yields zero values.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.bad, d.b = true, nil
		return nil
	}
	v := append([]byte{}, d.b[:n]...)
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes(d.uvarint())) }

func (d *decoder) optional() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	return d.bytes(n - 1)
}
