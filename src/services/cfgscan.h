/*
 * cfgscan.h - does a slicer config give post_process a value?
 *
 * PrusaSlicer and Slic3r run a config's post_process through a shell after
 * slicing.  They read it from an uploaded .ini (Boost's ini reader, which
 * trims every kind of whitespace around keys and values), from the
 * "; key = value" lines of a 3MF's Metadata/Slic3r_PE.config, from the
 * <metadata key=.. value=..> of Slic3r_PE_model.config, from an AMF's
 * <metadata type="slic3r.post_process">, and other slicers keep the same
 * key in JSON.  Rather than parse each format as its slicer does, the
 * scan is conservative: any occurrence of the key, in any case, as
 * post_process, post-process, postprocess or "post process", anywhere in a
 * line (also in comments, also inside a longer name), is a danger unless
 * what follows it is plainly empty:
 *
 *   text: only whitespace, quotes, '=', ':', ',', '[' and ']' up to the
 *         end of the line, LF ("post_process = ", "\"post_process\": [],");
 *         CR, VT and FF are whitespace (Boost trims them off a value),
 *         and the key is found anywhere, also after a CR that another
 *         reader would take for a line end
 *   XML:  the attribute or element closed empty right after the key,
 *         whitespace and line ends allowed: "\"/>", "\" value=\"\"/>",
 *         "\"></metadata>"; and no non-empty value="..." earlier in the
 *         same element
 *
 * What a slicer decodes before it reads a key is refused outright, as real
 * configs never need it and the key could hide in it:
 *
 *   XML:  a character reference (&#95; &#x5F;) to an ASCII letter, digit,
 *         '_' or '-', and any "<!" (comments, CDATA sections, DOCTYPE and
 *         its entities), which could split or spell the key
 *   text: a \u00XX escape (JSON) to such a character
 *
 * The bytes are fed in pieces of any size.
 */
#ifndef RR_CFGSCAN_H
#define RR_CFGSCAN_H

#include <stddef.h>

#define CFGSCAN_REST 24   /* non-blank bytes kept after the key (XML) */

struct cfgscan {
    int xml;                  /* XML rules for what may follow */
    int state;                /* 0 looking for the key, 1 after it */
    unsigned char win[16];    /* ring: the last bytes fed, lowercased */
    size_t wlen;              /* bytes ever put in win */
    unsigned char nb[16];     /* ring: the last non-blank bytes fed */
    size_t nblen;
    int quote;                /* XML: the quote of a value=" just seen */
    int elem_value;           /* XML: a non-empty value= in this element */
    char rest[CFGSCAN_REST];  /* non-blank bytes after the key (XML) */
    size_t rlen;
    unsigned long line;       /* 1-based, of the byte being read */
    unsigned long danger;     /* line of the first danger, 0 = none */
    int why;                  /* what it is (cfgscan_what) */
    int lt;                   /* XML: the last byte was '<' */
    int ref;                  /* in "&#" (1 "&", 2 decimal, 3 hex) or
                                 a backslash (4) and u (5); 0 none */
    unsigned long refval;     /* the number so far */
    int refdigits;
};

/* Starts a scan; xml = 1 for XML parts (AMF, *.model, *_model.config). */
void cfgscan_init(struct cfgscan *s, int xml);
/* Scans the next len bytes. */
void cfgscan_feed(struct cfgscan *s, const void *data, size_t len);
/* Ends the scan: 0, or the line (>= 1) where post_process gets a value. */
unsigned long cfgscan_finish(struct cfgscan *s);

/* One call for a whole buffer: 0 or the line of the danger. */
unsigned long cfgscan_buf(const void *data, size_t len, int xml);
/* The same, with *what set as cfgscan_what says. */
unsigned long cfgscan_buf_what(const void *data, size_t len, int xml,
                               const char **what);
/* What the danger found is: "sets post_process", "has a character
 * reference to a letter, digit, '_' or '-'", ... */
const char *cfgscan_what(const struct cfgscan *s);

/* Most bytes inflated from one 3MF or AMF before it is refused (the
 * fuzzer builds with less, to spend its time on more inputs). */
#ifndef CFGSCAN_INFLATE_MAX
#define CFGSCAN_INFLATE_MAX (512ULL * 1024 * 1024)
#endif

/* Scans the file at path (XML rules if xml).  0; -2 with err "line 3 sets
 * post_process" (or another cfgscan_what); -1 with err saying why it
 * could not be read. */
int cfgscan_file(const char *path, int xml, char *err, size_t errlen);

/* Scans the entries of the zip at path (size bytes) that a slicer may read
 * settings from: every entry of an AMF (amf = 1); in a 3MF every entry
 * but the meshes (*.model) and pictures, so Metadata/Slic3r_PE.config,
 * Metadata/Slic3r_PE_model.config, other Metadata/ files and Cura's
 * settings.  Parts named *.model, *.amf, *.xml, *.rels and *_model.config,
 * and parts whose text starts with '<', are read as XML.  0; -2 with err "Metadata/Slic3r_PE.config line 3 sets
 * post_process"; -1 with err saying why the zip could not be read
 * (zipdir.h). */
int cfgscan_zip(const char *path, unsigned long long size, int amf,
                char *err, size_t errlen);

#endif
