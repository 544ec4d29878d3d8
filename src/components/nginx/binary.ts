import { findProgram } from "../program.js";

/** The nginx this host runs: `$CONGRUENT_NGINX`, else nginx on PATH; an error naming the package. */
export const nginxBinary = (): string => findProgram("nginx", process.env.CONGRUENT_NGINX, "nginx-light (or nginx)");
