package storage

import (
	"bytes"
	"context"
	"testing"
)

func TestSettingsAndAppSecrets(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, ok, err := s.Setting(ctx, "tunnel"); ok || err != nil {
		t.Fatalf("empty store has a setting: %v %v", ok, err)
	}
	for _, v := range []string{`{"mode":"quick"}`, `{"mode":"token"}`} {
		if err := s.PutSetting(ctx, "tunnel", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Setting(ctx, "tunnel"); got != v || !ok || err != nil {
			t.Errorf("setting %q %v %v, want %q", got, ok, err, v)
		}
	}
	if has, _ := s.HasSecrets(ctx); has {
		t.Fatal("secrets in an empty store")
	}
	if err := s.PutAppSecret(ctx, "tunnel-token", []byte("n"), []byte("ct")); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasSecrets(ctx); !has {
		t.Error("an app secret does not count: a new master key could replace the one that sealed it")
	}
	if err := s.PutAppSecret(ctx, "tunnel-token", []byte("n2"), []byte("ct2")); err != nil {
		t.Fatal(err)
	}
	if n, ct, err := s.AppSecret(ctx, "tunnel-token"); !bytes.Equal(n, []byte("n2")) || !bytes.Equal(ct, []byte("ct2")) || err != nil {
		t.Errorf("secret %q %q %v", n, ct, err)
	}
	if err := s.DeleteAppSecret(ctx, "tunnel-token"); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.AppSecret(ctx, "tunnel-token"); n != nil || err != nil {
		t.Errorf("deleted secret still there: %q %v", n, err)
	}
}
