"""Plain administrative language and FALC rewriting, with a rule checker."""
