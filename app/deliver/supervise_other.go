//go:build !linux

package deliver

// becomeSubreaper: only Linux has subreapers; elsewhere the process group is what is ended.
func becomeSubreaper() {}

func endDescendants() {}
