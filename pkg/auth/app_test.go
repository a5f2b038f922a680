package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph/graphsim"
)

// selfSigned makes a certificate and key as `openssl req -x509` would.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "elentra-teams test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func TestAppTokenSource(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	otherCert, otherKey := selfSigned(t)
	const tenant, client = "11111111-2222-3333-4444-555555555555", "22222222-3333-4444-5555-666666666666"
	sim := graphsim.New(graphsim.Seed{TenantID: tenant, Clients: []graphsim.Client{{ClientID: client, ClientSecret: "fake-app-secret", Certificate: string(certPEM)}}}, graphsim.Options{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	dir := t.TempDir()
	good := filepath.Join(dir, "app.pem")
	os.WriteFile(good, append(certPEM, keyPEM...), 0o600)
	wrong := filepath.Join(dir, "other.pem")
	os.WriteFile(wrong, append(otherCert, otherKey...), 0o600)
	mismatched := filepath.Join(dir, "mismatched.pem")
	os.WriteFile(mismatched, append(certPEM, otherKey...), 0o600)

	m := config.Microsoft{TenantID: tenant, ClientID: client, Authority: srv.URL, AuthMode: "application"}
	get := func(m config.Microsoft) error {
		ts, err := AppTokenSource(context.Background(), m, time.Now)
		if err != nil {
			return err
		}
		tok, err := ts.Token()
		if err == nil && tok.AccessToken == "" {
			t.Error("empty token")
		}
		return err
	}

	withSecret := m
	withSecret.ClientSecret = "fake-app-secret"
	if err := get(withSecret); err != nil {
		t.Errorf("secret: %v", err)
	}
	withCert := m
	withCert.ClientCertificateFile = good
	if err := get(withCert); err != nil {
		t.Errorf("certificate: %v", err)
	}
	withCert.ClientCertificateFile = wrong
	err := get(withCert)
	var re *ReauthorizeError
	if !errors.As(err, &re) || re.AADSTS != 700027 || !strings.Contains(err.Error(), "upload the certificate") {
		t.Errorf("an unregistered certificate: %v", err)
	}
	withCert.ClientCertificateFile = mismatched
	err = get(withCert)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Key != "microsoft.client_certificate_file" || !strings.Contains(ce.Problem, "does not belong") {
		t.Errorf("a key of another certificate: %v", err)
	}
	withSecret.ClientSecret = "wrong"
	if err := get(withSecret); !errors.As(err, &re) || re.AADSTS != 7000215 {
		t.Errorf("a wrong secret: %v", err)
	}
}

// The client certificate file is read as every input file is: a regular
// file, up to a limit (a device would never end, a huge file would take the
// machine's memory).
func TestLoadCertificateIsBounded(t *testing.T) {
	if _, err := LoadCertificate("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(big, make([]byte, config.MaxSecretFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCertificate(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the limit: %v", err)
	}
}
