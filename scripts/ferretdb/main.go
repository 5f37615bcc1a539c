// Command ferretdb runs FerretDB v1 on its PostgreSQL backend through the module's embeddable
// package. The module's own cmd/ferretdb refuses to start when built outside its repository
// (it reads build/version/version.txt), so scripts/provision.sh builds this instead.
// Embedded FerretDB never starts its telemetry reporter: nothing leaves the machine.
// Beside FerretDB it keeps GIN indexes that make FerretDB's pushed-down filters use an index
// (gin-indexes.go).
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	postgresURL := flag.String("postgresql-url", os.Getenv("FERRETDB_POSTGRESQL_URL"), "PostgreSQL URL (or FERRETDB_POSTGRESQL_URL, which keeps the password out of the process list)")
	ginEvery := flag.Duration("gin-index-interval", 2*time.Second, "how often to look for indexes that need a GIN companion")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		slog.Error("invalid --log-level", "error", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go keepGINIndexes(ctx, *postgresURL, *ginEvery, logger)
	logger.Info("listening", "addr", *listen)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped", "error", err)
		os.Exit(1)
	}
}
