package verify

import (
	"strings"
	"testing"
)

const haSecret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func TestMobileAppVectors(t *testing.T) {
	want := `{"gps":[12.34,56.78],"gps_accuracy":120,"battery":45}`
	for name, data := range map[string]string{
		"current key": "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3PS9/W3rupsN+zNKKj40NJk230GrxRN31RhkVeMKEQ/B6rOjzFalvT0MUMrcpFp1nrJNpnh92UQndKQFCe457iUIh7nDx",
		"legacy key":  "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3nvaL9qE+aykmOgZ9CCVOln8+Wtu1Z8pEvmqu/vp8bI5/JMmduw4HZfNg7Tbj8RRT2bT029ceXRsyoz93AuI+NMs1rspB",
		"no padding":  strings.TrimRight("oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3PS9/W3rupsN+zNKKj40NJk230GrxRN31RhkVeMKEQ/B6rOjzFalvT0MUMrcpFp1nrJNpnh92UQndKQFCe457iUIh7nDx", "="),
	} {
		t.Run(name, func(t *testing.T) {
			typ, got, err := Decrypt(haSecret, []byte(`{"type":"update_location","encrypted":true,"encrypted_data":"`+data+`"}`))
			if err != nil || typ != "update_location" || string(got) != want {
				t.Errorf("Decrypt = %q, %q, %v", typ, got, err)
			}
		})
	}
}

func TestMobileAppFailuresAreVerdicts(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"wrong secret", `{"type":"x","encrypted":true,"encrypted_data":"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3PS9/W3rupsN+zNKKj40NJk230GrxRN31RhkVeMKEQ/B6rOjzFalvT0MUMrcpFp1nrJNpnh92UQndKQFCe457iUIh7nDy"}`, "does not open"},
		{"not base64", `{"type":"x","encrypted":true,"encrypted_data":"!!!"}`, "not base64"},
		{"too short", `{"type":"x","encrypted":true,"encrypted_data":"AAAA"}`, "too short"},
		{"not JSON", `nope`, "not a mobile_app envelope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := Decrypt(haSecret, []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	typ, data, err := Decrypt(haSecret, []byte(`{"type":"get_config","data":{"a":1}}`))
	if err != nil || typ != "get_config" || string(data) != `{"a":1}` {
		t.Errorf("unencrypted envelope: %q %q %v", typ, data, err)
	}
}

func FuzzDecrypt(f *testing.F) {
	f.Add([]byte(`{"type":"x","encrypted":true,"encrypted_data":"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		Decrypt(haSecret, body) // must not panic, whatever arrives
	})
}
