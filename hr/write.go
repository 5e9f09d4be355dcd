package hr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Write carries a result out in the working tree at dir: each file
// written whole through a temporary file renamed over it, then the old
// paths of renamed files removed. A refused result writes nothing.
func Write(dir string, r *Result) error {
	if r.Refused != "" {
		return fmt.Errorf("refused: %s", r.Refused)
	}
	paths := make([]string, 0, len(r.Files))
	for p := range r.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		data := r.Files[p]
		if data == nil {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(full), ".hr-*")
		if err != nil {
			return err
		}
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("%s: %w", p, err)
		}
		_ = os.Chmod(tmp.Name(), 0o644)
		if err := os.Rename(tmp.Name(), full); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	for _, p := range paths {
		if r.Files[p] != nil {
			continue
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
