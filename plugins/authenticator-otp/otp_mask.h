/*
 * Masking of OTP destinations for display ("j***@e*****e.com", "******4321"), shared by the
 * plugins that send OTPs or report where they went. The masked form shows enough for a user to
 * recognise their own address and too little to learn someone else's.
 */
#ifndef OTP_MASK_H
#define OTP_MASK_H

#include <stddef.h>

/*
 * Writes the masked form of e-mail address `addr` (length n) and a NUL to `out`: the first
 * character of the local part, "***", "@", then the domain with every character between the
 * first and the last of its name replaced by '*', and the top-level domain kept. Returns the
 * length written, or 0 when `out` is too small or the address has no '@'.
 */
size_t otp_mask_email(const char *addr, size_t n, char *out, size_t size);

/*
 * Writes the masked form of phone number `num` (length n) and a NUL to `out`: every character
 * but the last four becomes '*'. Returns the length written, or 0 when `out` is too small.
 */
size_t otp_mask_phone(const char *num, size_t n, char *out, size_t size);

/* Masks `dest` as an e-mail address for channel "email" and as a phone number otherwise. */
size_t otp_mask_destination(const char *channel, size_t channel_len, const char *dest, size_t n,
                            char *out, size_t size);

#endif
