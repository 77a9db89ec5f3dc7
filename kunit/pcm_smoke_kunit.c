// SPDX-License-Identifier: GPL-2.0
/*
 * Temporary smoke suite proving the scripts/kunit-run pipeline; it uses no
 * model file.  Remove once real *_kunit.c suites exist.
 */
#include <kunit/test.h>

static void pcm_smoke_arith(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

static struct kunit_case pcm_smoke_cases[] = {
	KUNIT_CASE(pcm_smoke_arith),
	{}
};

static struct kunit_suite pcm_smoke_suite = {
	.name = "pcm_smoke",
	.test_cases = pcm_smoke_cases,
};
kunit_test_suite(pcm_smoke_suite);

MODULE_DESCRIPTION("pcm_kvm KUnit smoke test");
MODULE_LICENSE("GPL");
