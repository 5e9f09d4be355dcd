package main

import (
	"fmt"
	"io"
	"log/slog"
)

// newLogger is the logger every command writes to stderr: --log-level's
// level, in --log-format's form: text (key=value, for people) or json (one
// object a line, for a log collector).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, &exitCode{exitInvalid, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)}
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, &exitCode{exitInvalid, fmt.Errorf("--log-format %q: use text or json", format)}
}
