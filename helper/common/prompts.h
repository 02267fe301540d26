/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two prompts a person may be asked for a code at (SPEC §3): the PAM module shows them,
 * and the hand-over sheet quotes the one the person will see, in the host's language (the
 * catalogs' keys are these English texts: po/).
 */
#ifndef PWRESET_PROMPTS_H
#define PWRESET_PROMPTS_H

#ifndef N_
#define N_(s) s /* a mark for xgettext */
#endif

#define PROMPT_OFFER \
	N_("Forgot your password? Enter a reset code, or type \"reset\" to have one e-mailed " \
	   "(Enter to skip): ")
#define PROMPT_ADMIN_CODE N_("Enter the reset code from your administrator (Enter to skip): ")

#endif
