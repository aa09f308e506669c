// Package edge holds the always-on inbox's Worker (inbox.js), which Hooktray uploads to the
// user's Cloudflare account, and the wrangler configuration for those who deploy it themselves.
package edge

import _ "embed"

// Script is the Worker module.
//
//go:embed inbox.js
var Script []byte

// Module is the Worker's module name, its main module.
const Module = "inbox.js"

// Class is the Durable Object class the Worker exports, and Binding its binding's name.
const (
	Class   = "Inbox"
	Binding = "INBOX"
	// SecretBinding is the environment variable that holds the inbox secret.
	SecretBinding = "HOOKTRAY_INBOX_SECRET"
	// CompatibilityDate is the Workers runtime behaviour the script is written for.
	CompatibilityDate = "2026-11-01"
)
