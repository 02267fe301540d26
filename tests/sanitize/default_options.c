/* SPDX-License-Identifier: BSD-3-Clause */
/* Linked into our programs in sanitized builds only (meson -Db_sanitize=...): their defaults,
 * which ASAN_OPTIONS and UBSAN_OPTIONS may still override. The helper closes stderr's peers,
 * the mailer's stderr is /dev/null and the one-shot helper is run with an empty environment,
 * so every report goes to a file in PWR_SANITIZER_LOG (one per process, suffixed with its
 * pid), where the tests look after each case. Leaks are checked at exit. */

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=1:log_path=" PWR_SANITIZER_LOG "/asan";
}

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1:log_path=" PWR_SANITIZER_LOG "/ubsan";
}
