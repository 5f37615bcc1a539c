/**
 * Free text the service stores as given (names, descriptions, metadata). It may hold any
 * character but U+0000: PostgreSQL, under FerretDB, refuses to store it ("unsupported Unicode
 * escape sequence"), which turned a webhook or event with such metadata into a 500 (found by
 * `npm run fuzz`). No name or label needs it; event `data` is stored serialised and may hold it.
 */
import { z } from 'zod';

export const NO_NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** A string without U+0000; the pattern is published in the OpenAPI document too. */
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
export const storedText = () => z.string().regex(/^[^\u0000]*$/, NO_NUL_MESSAGE);
