/* journal: what the host may call while the module is active. The module
 * publishes a pointer to this table as its kr_module_data(). */
#ifndef DEMO_JOURNAL_H
#define DEMO_JOURNAL_H

typedef struct {
	/* Appends one record (a line without its '\n'). 0, or UV_ECANCELED
	 * once cleanup has started, or UV_ENOMEM. Loop thread only. */
	int (*append)(const char *record);
} journal_api_t;

#endif
