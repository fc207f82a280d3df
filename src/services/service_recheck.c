/*
 * service_recheck.c - the privileged side re-checks (service.h,
 * service_check_argv): rrcloudd does not run the argv rrcloud-fcgi stored
 * because it was stored.  The stored words are read back into the parts
 * service_build_argv() takes (options, inputs with or without prearg),
 * using what the row and the conf already fix (the command, the inputs,
 * the output name), and the argv is built again from them with every
 * client check; only an exact match runs.  A misreading can only refuse,
 * never let a word through: the result is compared word for word.
 */
#include "services/service.h"
#include "services/service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC_SHOW 64

struct rc_parts {
    char **inputs;                          /* from the row */
    long n_inputs;
    const char *prearg[SERVICE_INPUT_MAX];
    const char *opts[SERVICE_OPTION_MAX];
    size_t n_opts;
};

static size_t rc_count(char *const *v)
{
    size_t n = 0;

    while (v[n] != NULL)
        n++;
    return n;
}

/* Inputs sit right before the output words, last input last. Moves *end
 * back over them. */
static int rc_read_inputs(const struct service *s, char *const *argv,
                          size_t start, size_t *end, struct rc_parts *p,
                          char *err, size_t errlen)
{
    for (long k = p->n_inputs - 1; k >= 0; k--) {
        const char *in = p->inputs[k];
        char *with = s->arg_input != NULL && !s->arg_input_split ?
                     svc_subst(s->arg_input, "$fileIn", in) : NULL;
        int pre = with != NULL && *end > start &&
                  strcmp(argv[*end - 1], with) == 0;
        /* "-j $fileIn": the prearg word, then the input */
        int pre2 = s->arg_input_split && *end - start >= 2 &&
                   strcmp(argv[*end - 1], in) == 0 &&
                   strcmp(argv[*end - 2], s->prearg) == 0;

        free(with);
        if (pre || pre2) {
            p->prearg[k] = s->prearg;
            *end -= pre2 ? 2 : 1;
        } else if (*end > start && strcmp(argv[*end - 1], in) == 0 &&
                   (s->input_flag == NULL ||
                    (*end - 1 > start &&
                     strcmp(argv[*end - 2], s->input_flag) == 0))) {
            *end -= s->input_flag != NULL ? 2 : 1;
        } else {
            snprintf(err, errlen, "input %.*s is not where service %s puts "
                     "it", RC_SHOW, in, s->name);
            return -1;
        }
    }
    return 0;
}

/* What is left between the command and the inputs is options. */
static int rc_read_options(const struct service *s, char *const *argv,
                           size_t start, size_t end, struct rc_parts *p,
                           char *err, size_t errlen)
{
    size_t step = s->option_flag != NULL ? 2 : 1;

    for (size_t i = start; i < end; i += step) {
        if (p->n_opts == SERVICE_OPTION_MAX || i + step > end) {
            snprintf(err, errlen, "word %zu: not an option of service %s", i,
                     s->name);
            return -1;
        }
        p->opts[p->n_opts++] = argv[i + step - 1];
    }
    return 0;
}

static int rc_compare(const struct service *s, char *const *stored,
                      char *const *built, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; stored[i] != NULL && built[i] != NULL; i++)
        if (strcmp(stored[i], built[i]) != 0)
            break;
    if (stored[i] == NULL && built[i] == NULL)
        return 0;
    snprintf(err, errlen, "word %zu ('%.*s') is not what service %s builds",
             i, RC_SHOW, stored[i] != NULL ? stored[i] : "", s->name);
    return -1;
}

static int rc_split_output(const struct service *s, size_t *nout)
{
    char **words = NULL;
    long n = 0;

    if (!s->no_output && (n = svc_split(s->output, " \t", &words)) < 0)
        return -1;
    svc_vec_free(words);
    *nout = (size_t)n;
    return 0;
}

int service_check_argv(const struct service *s, const char *id,
                       const char *inputs, const char *out_name,
                       char *const *argv, char *err, size_t errlen)
{
    struct service_task_spec spec;
    struct rc_parts p;
    char **built = NULL, inner[512];
    size_t n = rc_count(argv), ncmd = rc_count(s->cmd_argv), nout, end;
    int rc = -1;

    memset(&p, 0, sizeof(p));
    inner[0] = '\0';
    p.n_inputs = svc_split(inputs != NULL ? inputs : "", ",", &p.inputs);
    if (p.n_inputs < 0 || rc_split_output(s, &nout) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (p.n_inputs > SERVICE_INPUT_MAX) {
        snprintf(inner, sizeof(inner), "%ld inputs", p.n_inputs);
        goto refuse;
    }
    for (size_t i = 0; i < ncmd; i++) {
        if (i >= n || strcmp(argv[i], s->cmd_argv[i]) != 0) {
            snprintf(inner, sizeof(inner), "word %zu ('%.*s') is not service "
                     "%s's command", i, RC_SHOW, i < n ? argv[i] : "",
                     s->name);
            goto refuse;
        }
    }
    if (n < ncmd + nout) {
        snprintf(inner, sizeof(inner), "too few words");
        goto refuse;
    }
    end = n - nout;
    if (rc_read_inputs(s, argv, ncmd, &end, &p, inner, sizeof(inner)) < 0 ||
        rc_read_options(s, argv, ncmd, end, &p, inner, sizeof(inner)) < 0)
        goto refuse;
    memset(&spec, 0, sizeof(spec));
    spec.id = id;
    spec.n_inputs = (size_t)p.n_inputs;
    spec.inputs = (const char *const *)p.inputs;
    spec.prearg = p.prearg;
    spec.n_options = p.n_opts;
    spec.options = p.opts;
    spec.output = out_name;
    if (service_build_argv(s, &spec, &built, inner, sizeof(inner)) < 0 ||
        rc_compare(s, argv, built, inner, sizeof(inner)) < 0)
        goto refuse;
    rc = 0;
    goto out;
refuse:
    snprintf(err, errlen, "refused the stored command line: %s", inner);
out:
    service_argv_free(built);
    svc_vec_free(p.inputs);
    return rc;
}
