/*
 * gcode_meta.h - what a slicer says about its G-code: the estimated print
 * time and the filament it uses, read from the comments each slicer
 * writes.
 *
 *   PrusaSlicer, SuperSlicer, Slic3r PE (at the end, before the config):
 *     ; filament used [mm] = 1282.39
 *     ; filament used [cm3] = 3.08
 *     ; total filament used [g] = 3.82        (0.00 when no density is set)
 *     ; estimated printing time (normal mode) = 1d 2h 21m 12s
 *   Slic3r 1.3:
 *     ; filament used = 622.4mm (4.4cm3)
 *   CuraEngine (at the start; run headless it writes ";TIME:6666" and
 *   ";Filament used: 0m" as placeholders, so the last ";TIME_ELAPSED:"
 *   and the highest absolute E near the end stand in for them):
 *     ;TIME:1532   ;Filament used: 1.29512m
 *
 * Only the first and last GCODE_META_SPAN bytes of a file are read.
 */
#ifndef RR_GCODE_META_H
#define RR_GCODE_META_H

#include <stddef.h>

#define GCODE_META_SPAN (64 * 1024)
/* An estimated print time beyond this (90 days) is no estimate: no
 * printer runs so long, and a text like ";TIME:1e300" would overflow the
 * times the scheduler computes from it.  It reads as unknown. */
#define GCODE_META_TIME_MAX (90 * 86400.0)

struct gcode_meta {
    double time_s;        /* estimated print time, s (at most
                             GCODE_META_TIME_MAX); -1 unknown */
    double filament_mm;   /* length of filament; -1 unknown */
    double filament_cm3;  /* its volume; -1 unknown */
    double filament_g;    /* its weight; -1 unknown */
    char generator[64];   /* "PrusaSlicer 2.5.0", "Slic3r 1.3.0",
                             "Cura_SteamEngine 4.13.0", or "" */
};

/* Reads the head (head_len bytes of the file's start) and tail (the
 * last tail_len bytes; may overlap the head, or be NULL) of a G-code
 * text into *m.  Never fails: what is not found stays unknown. */
void gcode_meta_parse(const char *head, size_t head_len, const char *tail,
                      size_t tail_len, struct gcode_meta *m);

/* The same for a file.  0, or -1 with errno when it cannot be read. */
int gcode_meta_read(const char *path, struct gcode_meta *m);

/* "1d 2h 21m 12s", "13m 45s", "45s" (PrusaSlicer's form) in seconds, or
 * -1 when s is not of that form. */
double gcode_meta_duration(const char *s);

#endif
