package graphsim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"time"
)

// verifyAssertion checks a certificate credential as the identity platform
// does: an RS256 JWT whose x5t is the SHA-1 thumbprint of the certificate
// registered on the app, signed by its key, with aud = the token endpoint,
// iss = sub = the client id, and a validity window covering now. It returns
// 0 when the assertion is good, else the AADSTS code and message.
func verifyAssertion(c *Client, clientID, jwt, audience string, now time.Time) (int, string) {
	if c.Certificate == "" {
		return 700027, "Client assertion failed signature validation: no certificate is registered for the application."
	}
	block, _ := pem.Decode([]byte(c.Certificate))
	if block == nil {
		return 700027, "Client assertion failed signature validation: the registered certificate is unreadable."
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return 700027, "Client assertion failed signature validation: the registered certificate is unreadable."
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return 50027, "JWT token is invalid or malformed."
	}
	var header struct {
		Alg string `json:"alg"`
		X5t string `json:"x5t"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Nbf int64  `json:"nbf"`
		Exp int64  `json:"exp"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return 50027, "JWT token is invalid or malformed."
	}
	thumb := sha1.Sum(cert.Raw)
	if header.Alg != "RS256" || header.X5t != base64.RawURLEncoding.EncodeToString(thumb[:]) {
		return 700027, "Client assertion contains an invalid signature: the key was not found (x5t does not match a registered certificate)."
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return 700027, "Client assertion failed signature validation."
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return 700027, "Client assertion failed signature validation."
	}
	if !strings.EqualFold(claims.Aud, audience) {
		return 700212, "No matching federated identity record found for presented assertion audience '" + claims.Aud + "'."
	}
	if !strings.EqualFold(claims.Iss, clientID) || !strings.EqualFold(claims.Sub, clientID) {
		return 700021, "Client assertion application identifier doesn't match 'client_id' parameter."
	}
	t := now.Unix()
	if claims.Exp != 0 && claims.Exp < t {
		return 700024, "Client assertion is not within its valid time range."
	}
	if claims.Nbf != 0 && claims.Nbf > t+300 {
		return 700024, "Client assertion is not within its valid time range."
	}
	return 0, ""
}
