// GOV.UK Frontend's behaviour (error summary focus, radios' conditional parts, the menu): the pages work without it.
import { initAll } from "/govuk-frontend/govuk-frontend.min.js";

initAll();
