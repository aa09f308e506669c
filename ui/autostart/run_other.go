//go:build !windows

package autostart

import "errors"

var errNotWindows = errors.New("the Run key exists on Windows only")

func runKeyEnabled() (bool, error) { return false, errNotWindows }
func setRunKey(string) error       { return errNotWindows }
func deleteRunKey() error          { return errNotWindows }
