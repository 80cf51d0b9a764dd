/**
 * Sluice's version, in one place: the admin API (`GET /api/v1/server`), the
 * dashboard and the metrics' build info all read it from here.
 *
 * @module
 */

/** The release, semver `MAJOR.MINOR.PATCH`. */
export const VERSION = "0.3.0";
