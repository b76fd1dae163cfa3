"""The shipped font files and their licences; `fonts.json` lists them (read by `typefaces`)."""
