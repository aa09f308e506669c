package secrets

import "context"

// NamedStore keeps sealed secrets by name: *storage.Store.
type NamedStore interface {
	AppSecret(ctx context.Context, name string) (nonce, ciphertext []byte, err error)
	PutAppSecret(ctx context.Context, name string, nonce, ciphertext []byte) error
	DeleteAppSecret(ctx context.Context, name string) error
}

// Named seals secrets that belong to something other than an endpoint (a target's signing
// secret, a provider's API key, the tunnel token) and keeps them by name; the name is also the
// sealed data's associated data, so a ciphertext copied under another name does not open.
type Named struct {
	Box   *Box
	Store NamedStore
}

// Put seals value under name, making the master key first if there is none yet; an empty value
// removes the secret.
func (n Named) Put(ctx context.Context, name, value string) error {
	if value == "" {
		return n.Store.DeleteAppSecret(ctx, name)
	}
	if n.Box.Missing() {
		if err := n.Box.Create(); err != nil {
			return err
		}
	}
	nonce, ct := n.Box.Seal(value, name)
	return n.Store.PutAppSecret(ctx, name, nonce, ct)
}

// Get opens the secret kept under name; found is false when there is none. An error from
// opening it (ErrKeyMissing, ErrWrongKey) comes with found true.
func (n Named) Get(ctx context.Context, name string) (value string, found bool, err error) {
	nonce, ct, err := n.Store.AppSecret(ctx, name)
	if err != nil || nonce == nil {
		return "", false, err
	}
	value, err = n.Box.Unseal(nonce, ct, name)
	return value, true, err
}

// Has reports whether a secret is kept under name, without opening it.
func (n Named) Has(ctx context.Context, name string) bool {
	nonce, _, err := n.Store.AppSecret(ctx, name)
	return err == nil && nonce != nil
}

// Delete removes the secret kept under name, if any.
func (n Named) Delete(ctx context.Context, name string) error {
	return n.Store.DeleteAppSecret(ctx, name)
}
