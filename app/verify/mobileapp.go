package verify

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

// Envelope is a mobile_app webhook body.
type Envelope struct {
	Type          string          `json:"type"`
	Encrypted     bool            `json:"encrypted"`
	EncryptedData string          `json:"encrypted_data"`
	Data          json.RawMessage `json:"data"`
}

// Decrypt opens a mobile_app envelope with the registration secret and returns the command type
// and the decrypted JSON of its data. Like Home Assistant it tries the current key (the secret's
// hex decoding) and then the legacy one (the secret's first 32 bytes of text, NUL-padded). An
// unencrypted envelope returns its data as is.
func Decrypt(secret string, body []byte) (typ string, data []byte, err error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return "", nil, fmt.Errorf("the body is not a mobile_app envelope: %v", err)
	}
	if !env.Encrypted {
		return env.Type, env.Data, nil
	}
	raw, err := base64.StdEncoding.DecodeString(env.EncryptedData)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(env.EncryptedData, "="))
	}
	if err != nil {
		return env.Type, nil, errors.New("encrypted_data is not base64")
	}
	if len(raw) < 24+secretbox.Overhead {
		return env.Type, nil, fmt.Errorf("encrypted_data is %d bytes, too short for a secretbox", len(raw))
	}
	var nonce [24]byte
	copy(nonce[:], raw[:24])
	for _, key := range mobileAppKeys(secret) {
		if plain, ok := secretbox.Open(nil, raw[24:], &nonce, &key); ok {
			return env.Type, plain, nil
		}
	}
	return env.Type, nil, errors.New("encrypted_data does not open with the registration secret (current or legacy key)")
}

func mobileAppKeys(secret string) [][32]byte {
	var keys [][32]byte
	if b, err := hex.DecodeString(secret); err == nil && len(b) == 32 {
		var k [32]byte
		copy(k[:], b)
		keys = append(keys, k)
	}
	var legacy [32]byte
	copy(legacy[:], secret)
	return append(keys, legacy)
}
