/* sim_mutant: names of the built-in mutants. */
#include <string.h>

#include "sim_mutant.h"

static const struct {
    const char *name, *what;
} mutants[SIM_MUT_COUNT] = {
#define SIM_MUT_ROW(id, name, what) [id] = {name, what},
    SIM_MUTANT_MAP(SIM_MUT_ROW)
#undef SIM_MUT_ROW
};

const char *sim_mutant_name(sim_mutant m) { return (unsigned)m < SIM_MUT_COUNT ? mutants[m].name : "?"; }
const char *sim_mutant_what(sim_mutant m) { return (unsigned)m < SIM_MUT_COUNT ? mutants[m].what : "?"; }

int sim_mutant_parse(const char *s, sim_mutant *out) {
    for (int i = 0; i < SIM_MUT_COUNT; i++)
        if (strcmp(s, mutants[i].name) == 0) {
            *out = (sim_mutant)i;
            return 0;
        }
    return -1;
}
