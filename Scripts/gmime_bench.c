/*
 * gmime_bench.c - MIME parsing benchmark driver using GMime 3 (comparison
 * baseline for `gmail-capture bench parse`).
 *
 * Build (from the repository root; needs `apt-get -y install libgmime-3.0-dev pkg-config`):
 *
 *   mkdir -p .build-bench
 *   cc -O2 -o .build-bench/gmime_bench Scripts/gmime_bench.c $(pkg-config --cflags --libs gmime-3.0)
 *
 * Usage:
 *
 *   .build-bench/gmime_bench DIR [--json]
 *
 * Reads every *.eml in DIR (sorted by name) into memory first; then times only
 * the parse + full walk, equivalent to Scripts/bench_parse_python.py:
 *
 *   - g_mime_parser_construct_message() on an in-memory stream (no copy of the
 *     file bytes; the parser's default persist-stream mode is kept);
 *   - for every entity (the message, every part, every message/rfc822 part and
 *     the message embedded in it): every header's unfolded, RFC 2047-decoded
 *     value via g_mime_header_get_value(); for From/To/Cc additionally
 *     internet_address_list_parse() of the raw value and a read of each
 *     address' name and addr-spec (groups are descended into);
 *   - for every leaf part: the content is decoded with
 *     g_mime_data_wrapper_write_to_stream() into a GMimeStreamMem; text parts
 *     go through g_mime_filter_charset_new(charset, "utf-8") when the charset is
 *     not already UTF-8/US-ASCII and the result is UTF-8 validated
 *     (g_utf8_validate, the moral equivalent of Python's bytes.decode); other
 *     parts are only transfer-decoded. For attachments the decoded size is
 *     accumulated.
 *
 * Output: human-readable summary, or with --json one JSON object:
 *   {"impl":"gmime","messages","bytes","seconds","mbPerSec","messagesPerSec",
 *    "peakRSSBytes","errors", ...extra counters}
 * MB = 1e6 bytes; peakRSSBytes = ru_maxrss (includes the in-memory corpus).
 */

#include <gmime/gmime.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
	guint64 parts, headers, header_chars, addresses, text_chars, binary_bytes;
	guint64 attachments, attachment_bytes, invalid_utf8, charset_fallbacks;
} Counters;

static GMimeParserOptions *popts;

static void walk_object (GMimeObject *obj, Counters *c);

static int
cmp_names (const void *a, const void *b)
{
	return strcmp (*(char * const *) a, *(char * const *) b);
}

static gboolean
is_address_header (const char *name)
{
	return !g_ascii_strcasecmp (name, "From") || !g_ascii_strcasecmp (name, "To") ||
		!g_ascii_strcasecmp (name, "Cc");
}

static void
visit_address_list (InternetAddressList *list, Counters *c)
{
	int i, n = internet_address_list_length (list);
	
	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address (list, i);
		const char *name = internet_address_get_name (ia);
		
		(void) name;
		if (INTERNET_ADDRESS_IS_MAILBOX (ia)) {
			const char *addr = internet_address_mailbox_get_addr ((InternetAddressMailbox *) ia);
			(void) addr;
			c->addresses++;
		} else if (INTERNET_ADDRESS_IS_GROUP (ia)) {
			visit_address_list (internet_address_group_get_members ((InternetAddressGroup *) ia), c);
		}
	}
}

static void
visit_headers (GMimeObject *obj, Counters *c)
{
	GMimeHeaderList *list = g_mime_object_get_header_list (obj);
	int i, n;
	
	if (list == NULL)
		return;
	
	n = g_mime_header_list_get_count (list);
	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at (list, i);
		const char *name = g_mime_header_get_name (h);
		const char *value = g_mime_header_get_value (h);   /* unfolded + RFC 2047 decoded */
		
		c->headers++;
		if (value)
			c->header_chars += g_utf8_strlen (value, -1);
		
		if (is_address_header (name)) {
			const char *raw = g_mime_header_get_raw_value (h);
			InternetAddressList *al = internet_address_list_parse (popts, raw ? raw : value);
			
			if (al) {
				visit_address_list (al, c);
				g_object_unref (al);
			}
		}
	}
}

static gboolean
charset_is_utf8 (const char *cs)
{
	return !g_ascii_strcasecmp (cs, "utf-8") || !g_ascii_strcasecmp (cs, "utf8") ||
		!g_ascii_strcasecmp (cs, "us-ascii") || !g_ascii_strcasecmp (cs, "ascii");
}

static void
decode_leaf (GMimePart *part, Counters *c)
{
	GMimeObject *obj = (GMimeObject *) part;
	GMimeContentType *ct = g_mime_object_get_content_type (obj);
	GMimeDataWrapper *content = g_mime_part_get_content (part);
	gboolean is_text = ct && g_mime_content_type_is_type (ct, "text", "*");
	GMimeStream *mem, *filtered = NULL, *out;
	GByteArray *bytes;
	
	if (content == NULL)
		return;
	
	mem = g_mime_stream_mem_new ();
	out = mem;
	
	if (is_text) {
		const char *charset = g_mime_content_type_get_parameter (ct, "charset");
		
		if (charset && !charset_is_utf8 (charset)) {
			GMimeFilter *f = g_mime_filter_charset_new (charset, "utf-8");
			
			if (f != NULL) {
				filtered = g_mime_stream_filter_new (mem);
				g_mime_stream_filter_add ((GMimeStreamFilter *) filtered, f);
				g_object_unref (f);
				out = filtered;
			} else {
				c->charset_fallbacks++;
			}
		}
	}
	
	g_mime_data_wrapper_write_to_stream (content, out);
	if (filtered) {
		g_mime_stream_flush (filtered);
		g_object_unref (filtered);
	}
	
	bytes = g_mime_stream_mem_get_byte_array ((GMimeStreamMem *) mem);
	if (is_text) {
		const char *end;
		
		if (!g_utf8_validate ((const char *) bytes->data, bytes->len, &end))
			c->invalid_utf8++;
		c->text_chars += bytes->len;
	} else {
		c->binary_bytes += bytes->len;
	}
	
	if (g_mime_part_is_attachment (part)) {
		c->attachments++;
		c->attachment_bytes += bytes->len;
	}
	
	g_object_unref (mem);
}

static void
walk_message (GMimeMessage *msg, Counters *c)
{
	GMimeObject *body;
	
	/* GMime 3 splits a message's header block: the GMimeMessage holds the
	 * non-Content-* headers, the top-level part holds the Content-* ones.
	 * Visiting both reads every top-level header exactly once. */
	visit_headers ((GMimeObject *) msg, c);
	body = g_mime_message_get_mime_part (msg);
	if (body)
		walk_object (body, c);
}

static void
walk_object (GMimeObject *obj, Counters *c)
{
	c->parts++;
	visit_headers (obj, c);
	
	if (GMIME_IS_MULTIPART (obj)) {
		GMimeMultipart *mp = (GMimeMultipart *) obj;
		int i, n = g_mime_multipart_get_count (mp);
		
		for (i = 0; i < n; i++)
			walk_object (g_mime_multipart_get_part (mp, i), c);
	} else if (GMIME_IS_MESSAGE_PART (obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message ((GMimeMessagePart *) obj);
		
		if (inner)
			walk_message (inner, c);
	} else if (GMIME_IS_PART (obj)) {
		decode_leaf ((GMimePart *) obj, c);
	}
}

int
main (int argc, char **argv)
{
	const char *dir = NULL;
	gboolean json = FALSE;
	GPtrArray *names, *blobs;
	struct dirent *de;
	struct timespec t0, t1;
	struct rusage ru;
	Counters c;
	guint64 total_bytes = 0, errors = 0;
	double seconds;
	DIR *d;
	guint i;
	int a;
	
	for (a = 1; a < argc; a++) {
		if (!strcmp (argv[a], "--json"))
			json = TRUE;
		else if (!strcmp (argv[a], "-h") || !strcmp (argv[a], "--help")) {
			printf ("usage: %s DIR [--json]\n", argv[0]);
			return 0;
		} else if (!dir)
			dir = argv[a];
		else {
			fprintf (stderr, "unexpected argument: %s\n", argv[a]);
			return 2;
		}
	}
	if (!dir) {
		fprintf (stderr, "usage: %s DIR [--json]\n", argv[0]);
		return 2;
	}
	
	g_mime_init ();
	popts = g_mime_parser_options_get_default ();
	
	if (!(d = opendir (dir))) {
		fprintf (stderr, "cannot open %s: %s\n", dir, strerror (errno));
		return 1;
	}
	names = g_ptr_array_new_with_free_func (g_free);
	while ((de = readdir (d))) {
		if (g_str_has_suffix (de->d_name, ".eml"))
			g_ptr_array_add (names, g_strdup (de->d_name));
	}
	closedir (d);
	qsort (names->pdata, names->len, sizeof (char *), cmp_names);
	
	/* read everything into memory first (not timed) */
	blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
	for (i = 0; i < names->len; i++) {
		char *path = g_build_filename (dir, (char *) names->pdata[i], NULL);
		GError *err = NULL;
		gchar *data;
		gsize len;
		
		if (!g_file_get_contents (path, &data, &len, &err)) {
			fprintf (stderr, "cannot read %s: %s\n", path, err->message);
			return 1;
		}
		g_ptr_array_add (blobs, g_byte_array_new_take ((guint8 *) data, len));
		total_bytes += len;
		g_free (path);
	}
	
	memset (&c, 0, sizeof (c));
	clock_gettime (CLOCK_MONOTONIC, &t0);
	for (i = 0; i < blobs->len; i++) {
		GByteArray *ba = blobs->pdata[i];
		GMimeStream *stream = g_mime_stream_mem_new_with_byte_array (ba);
		GMimeParser *parser;
		GMimeMessage *msg;
		
		g_mime_stream_mem_set_owner ((GMimeStreamMem *) stream, FALSE);  /* corpus buffer stays ours */
		parser = g_mime_parser_new_with_stream (stream);
		g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
		msg = g_mime_parser_construct_message (parser, popts);
		if (msg) {
			walk_message (msg, &c);
			g_object_unref (msg);
		} else {
			errors++;
			if (errors <= 5)
				fprintf (stderr, "error: %s: failed to parse message\n", (char *) names->pdata[i]);
		}
		g_object_unref (parser);
		g_object_unref (stream);
	}
	clock_gettime (CLOCK_MONOTONIC, &t1);
	seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	
	getrusage (RUSAGE_SELF, &ru);
	{
		long long peak = (long long) ru.ru_maxrss * 1024;  /* Linux: KiB */
		double mbps = seconds > 0 ? total_bytes / 1e6 / seconds : 0.0;
		double mps = seconds > 0 ? blobs->len / seconds : 0.0;
		
		if (json) {
			printf ("{\"impl\": \"gmime\", \"messages\": %u, \"bytes\": %llu, \"seconds\": %.6f, "
				"\"mbPerSec\": %.3f, \"messagesPerSec\": %.3f, \"peakRSSBytes\": %lld, \"errors\": %llu, "
				"\"parts\": %llu, \"headers\": %llu, \"headerChars\": %llu, \"addresses\": %llu, "
				"\"textBytes\": %llu, \"binaryBytes\": %llu, \"attachments\": %llu, \"attachmentBytes\": %llu, "
				"\"invalidUTF8\": %llu, \"charsetFallbacks\": %llu, \"gmimeVersion\": \"%u.%u.%u\"}\n",
				blobs->len, (unsigned long long) total_bytes, seconds, mbps, mps, peak,
				(unsigned long long) errors, (unsigned long long) c.parts, (unsigned long long) c.headers,
				(unsigned long long) c.header_chars, (unsigned long long) c.addresses,
				(unsigned long long) c.text_chars, (unsigned long long) c.binary_bytes,
				(unsigned long long) c.attachments, (unsigned long long) c.attachment_bytes,
				(unsigned long long) c.invalid_utf8, (unsigned long long) c.charset_fallbacks,
				gmime_major_version, gmime_minor_version, gmime_micro_version);
		} else {
			printf ("impl:            gmime (GMime %u.%u.%u)\n", gmime_major_version, gmime_minor_version, gmime_micro_version);
			printf ("messages:        %u\n", blobs->len);
			printf ("bytes:           %llu (%.1f MB)\n", (unsigned long long) total_bytes, total_bytes / 1e6);
			printf ("seconds:         %.3f\n", seconds);
			printf ("MB/s:            %.2f\n", mbps);
			printf ("messages/s:      %.1f\n", mps);
			printf ("peak RSS:        %.1f MB\n", peak / 1e6);
			printf ("errors:          %llu\n", (unsigned long long) errors);
			printf ("parts/headers:   %llu / %llu  (addresses %llu, attachments %llu, attachment bytes %llu)\n",
				(unsigned long long) c.parts, (unsigned long long) c.headers, (unsigned long long) c.addresses,
				(unsigned long long) c.attachments, (unsigned long long) c.attachment_bytes);
			if (c.invalid_utf8 || c.charset_fallbacks)
				printf ("text warnings:   %llu invalid UTF-8 results, %llu unknown charsets\n",
					(unsigned long long) c.invalid_utf8, (unsigned long long) c.charset_fallbacks);
		}
	}
	
	g_ptr_array_unref (blobs);
	g_ptr_array_unref (names);
	g_mime_shutdown ();
	return 0;
}
