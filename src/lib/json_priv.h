/*
 * Internal to the library: the jansson side of its JSON. Public headers
 * give JSON as text (char *); inside, documents are built as json_t so
 * that one report can embed another (a package report holds the chain
 * report of each signature).
 */
#ifndef OTATOOL_JSON_PRIV_H
#define OTATOOL_JSON_PRIV_H

#include <stddef.h>

#include <jansson.h>

/*
 * otatool's canonical JSON text for root (2-space indent, keys in
 * insertion order, final newline): the form of otatool-manifest(5) and
 * otatool-signature(5), and of every report. *out is malloc'ed. Records
 * an error only when it fails.
 */
int ota_json_canonical(char **out, size_t *len, json_t *root);

/*
 * The same, taking root (freed here): NULL, a builder out of memory, is
 * OTA_EINTERNAL. For the reports' *_to_json().
 */
int ota_json_text(char **out, size_t *len, json_t *root);

/*
 * The reports as documents, for the public *_to_json() and for embedding
 * (chain.c, mcuboot.c, package_check.c). NULL when out of memory.
 */
struct ota_chain_report;
struct ota_mcuboot_info;
struct ota_package_report;
json_t *ota_chain_report_json(const struct ota_chain_report *report);
json_t *ota_mcuboot_info_json(const struct ota_mcuboot_info *info);
json_t *ota_package_report_json(const struct ota_package_report *report);

#endif
