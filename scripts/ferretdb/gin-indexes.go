package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// FerretDB v1 pushes an equality filter down to PostgreSQL as `_jsonb->'field' @> value`, but
// creates each MongoDB index as a btree on `(_jsonb->'field')`, which `@>` cannot use: every
// query scanned its whole table (FerretDB issue 4646). For every top-level field of every index
// FerretDB made, keepGINIndexes adds a GIN index on the same expression, which `@>` does use
// (every field, not only the first: PostgreSQL combines them, so `{tenantId, eventId}` reads one
// event's rows rather than a whole tenant's).
// It polls, because collections and their indexes are created at any time through the wire
// protocol; a pass that finds nothing to do is one catalogue query.

// btreeField captures each top-level key of a FerretDB btree index definition.
var btreeField = regexp.MustCompile(`\(_jsonb -> '([^'.]+)'::text\)`)

func keepGINIndexes(ctx context.Context, postgresURL string, every time.Duration, logger *slog.Logger) {
	for {
		if err := ensureGINIndexes(ctx, postgresURL, logger); err != nil && ctx.Err() == nil {
			logger.Warn("cannot add GIN indexes; will try again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func ensureGINIndexes(ctx context.Context, postgresURL string, logger *slog.Logger) error {
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	rows, err := conn.Query(ctx, `
		SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND indexdef LIKE '%USING btree%'`)
	if err != nil {
		return err
	}
	type target struct{ schema, table, field, name string }
	existing := map[string]bool{}
	var wanted []target
	for rows.Next() {
		var schema, table, index, def string
		if err := rows.Scan(&schema, &table, &index, &def); err != nil {
			return err
		}
		existing[schema+"."+index] = true
		for _, m := range btreeField.FindAllStringSubmatch(def, -1) {
			wanted = append(wanted, target{schema, table, m[1], ginIndexName(schema, table, m[1])})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// GIN indexes are not btree: list them separately.
	ginRows, err := conn.Query(ctx, `SELECT schemaname, indexname FROM pg_indexes WHERE indexdef LIKE '%USING gin%'`)
	if err != nil {
		return err
	}
	for ginRows.Next() {
		var schema, index string
		if err := ginRows.Scan(&schema, &index); err != nil {
			return err
		}
		existing[schema+"."+index] = true
	}
	if err := ginRows.Err(); err != nil {
		return err
	}

	for _, t := range wanted {
		if existing[t.schema+"."+t.name] {
			continue
		}
		existing[t.schema+"."+t.name] = true
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((_jsonb -> %s))`,
			pgx.Identifier{t.name}.Sanitize(), pgx.Identifier{t.schema, t.table}.Sanitize(), quoteLiteral(t.field))
		if _, err := conn.Exec(ctx, q); err != nil {
			// The table may have been dropped since the catalogue was read.
			logger.Warn("cannot add GIN index", "schema", t.schema, "table", t.table, "field", t.field, "error", err)
			continue
		}
		logger.Info("added GIN index", "schema", t.schema, "table", t.table, "field", t.field)
	}
	return nil
}

// ginIndexName is short and stable: PostgreSQL truncates names over 63 bytes.
func ginIndexName(schema, table, field string) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s", schema, table, field)
	return fmt.Sprintf("gin_%016x", h.Sum64())
}

func quoteLiteral(s string) string {
	return "'" + regexp.MustCompile(`'`).ReplaceAllString(s, "''") + "'"
}
