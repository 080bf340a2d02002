"""银税互动 (bank–tax): the promotion list of A/B/M taxpayers for the service section, the record of whom it told
about credit loans, and the loans obtained. Nothing here sends a taxpayer list to a bank."""
