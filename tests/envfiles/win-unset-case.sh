unset userprofile
