/*
 * schema.h - the database schema as numbered migrations.
 *
 * store_open() applies every migration above PRAGMA user_version in one
 * BEGIN IMMEDIATE transaction (so processes starting together wait for the
 * one that migrates), and a database of any earlier release is brought up
 * to date.  Append new migrations; never edit one that has shipped.
 */
#ifndef RR_SCHEMA_H
#define RR_SCHEMA_H

extern const char *const schema_migrations[];
extern const int schema_count;

#endif
