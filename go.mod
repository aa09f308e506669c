module github.com/hooktray/hooktray

go 1.26.0

require (
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
