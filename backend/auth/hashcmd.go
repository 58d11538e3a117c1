package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// HashPasswordCommand implements `tickwatch hash-password`: it reads one
// line from in (the password; the line ending is not part of it, other
// spaces are), and writes its bcrypt hash and a newline to out.
func HashPasswordCommand(in io.Reader, out io.Writer) error {
	return hashPasswordCommand(in, out, PasswordCost)
}

func hashPasswordCommand(in io.Reader, out io.Writer, cost int) error {
	// Bounded read: an over-long line is still long enough to be refused by
	// hashPassword rather than silently cut.
	line, err := bufio.NewReaderSize(io.LimitReader(in, 4096), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("hash-password: read stdin: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if strings.TrimSpace(pw) == "" {
		return errors.New("hash-password: empty password (pipe one line to stdin)")
	}
	hash, err := hashPassword(pw, cost)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	if _, err := fmt.Fprintln(out, hash); err != nil {
		return fmt.Errorf("hash-password: write: %w", err)
	}
	return nil
}
