// The log-in page keeps the dashboard page the visitor asked for (the URL hash survives the
// redirect to /admin/login) so the dashboard can open it after log-in.
import { AFTER_LOGIN } from "./api.js";

if (/^#\/[a-z0-9/-]+$/.test(window.location.hash)) sessionStorage.setItem(AFTER_LOGIN, window.location.hash);
