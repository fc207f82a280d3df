/*
 * chainform.h - the form fields of a task pipeline (POST / with then=...),
 * as pure functions for submit_chain.c and the unit tests.
 */
#ifndef RR_CHAINFORM_H
#define RR_CHAINFORM_H

/* Splits then's comma list in place (list is modified) into names, at
 * most max of them.  Returns the number of names, CHAINFORM_EMPTY if one
 * is empty ("a,,b", "a,", ""), or CHAINFORM_TOO_MANY past max. */
#define CHAINFORM_EMPTY (-1)
#define CHAINFORM_TOO_MANY (-2)
int chainform_split(char *list, const char **names, int max);

/* 1 if name (after "thenN.") is one of a print job's fields: queue,
 * copies, material, color, colour, priority, printer, profile. */
int chainform_job_field(const char *name);

/* The stage a "thenN." field belongs to: N (1..999) for thenN.argM,
 * thenN.nativeArgs and a print stage's thenN.<job field>; 0 for a name that is no stage field at all (it does
 * not start with "then" and a digit); -1 for one that starts so but is
 * not one of those two ("then1.fileIn0", "then1", "then1.arg", "then0.arg0":
 * the first stage's fields have no prefix). */
int chainform_field_stage(const char *name);

#endif
