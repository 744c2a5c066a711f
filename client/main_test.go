package client_test

import (
	"testing"

	"github.com/agentidp/agentidp/client/internal/idptest"
)

// TestMain stops the real server that the end-to-end tests share.
func TestMain(m *testing.M) { idptest.Main(m) }
