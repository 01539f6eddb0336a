package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"

	"github.com/picasoft/antenne/storage/bucket"
)

// Actor keys live under secrets/actors/: one per show
// (secrets/actors/<show>.pem) and one for the instance actor that signs
// GET requests (secrets/instance-actor.pem). The first replica that needs
// a key creates it with If-None-Match: *; a replica that loses the race
// reads the winner's, so every replica signs with the same key.
const (
	keysPrefix       = "secrets/actors/"
	instanceKeyName  = "secrets/instance-actor.pem"
	keyBits          = 2048
	privateKeyPEMTyp = "PRIVATE KEY"
)

func showKeyName(show string) string { return keysPrefix + show + ".pem" }

// keyring loads and caches the actors' private keys.
type keyring struct {
	store bucket.Store
	mu    sync.Mutex
	keys  map[string]*rsa.PrivateKey // by store key
}

func newKeyring(st bucket.Store) *keyring {
	return &keyring{store: st, keys: map[string]*rsa.PrivateKey{}}
}

// get returns the key stored under name, creating it when there is none.
func (k *keyring) get(ctx context.Context, name string) (*rsa.PrivateKey, error) {
	k.mu.Lock()
	key, ok := k.keys[name]
	k.mu.Unlock()
	if ok {
		return key, nil
	}
	key, err := k.load(ctx, name)
	if bucket.IsNotFound(err) {
		key, err = k.create(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.keys[name] = key
	k.mu.Unlock()
	return key, nil
}

func (k *keyring) load(ctx context.Context, name string) (*rsa.PrivateKey, error) {
	data, _, err := bucket.ReadBytes(ctx, k.store, name, maxDocSize)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != privateKeyPEMTyp {
		return nil, fmt.Errorf("read %s: not a PEM private key", name)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read %s: not an RSA key", name)
	}
	return key, nil
}

// create makes a key and stores it unless another replica stored one
// first, in which case that one is returned.
func (k *keyring) create(ctx context.Context, name string) (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", name, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", name, err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: privateKeyPEMTyp, Bytes: der})
	_, err = k.store.PutIf(ctx, name, bytes.NewReader(data), int64(len(data)), "application/x-pem-file", "")
	if bucket.IsConflict(err) {
		return k.load(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	return key, nil
}
