/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The recovery addresses users register themselves (selfaddress.c, SPEC §11).
 */
#ifndef PWRESET_SELFADDRESS_H
#define PWRESET_SELFADDRESS_H

#include "handler.h"

handler_fn selfaddress_show, selfaddress_set, selfaddress_confirm, selfaddress_remove,
	selfaddress_language;

#endif
