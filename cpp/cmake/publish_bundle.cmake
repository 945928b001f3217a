# Copy the built bundle to DEST (plugin/ in the source tree). The old copy is removed
# first rather than overwritten: a host that has it loaded keeps its mapped files.
get_filename_component(name "${BUNDLE}" NAME)
file(REMOVE_RECURSE "${DEST}/${name}")
file(COPY "${BUNDLE}" DESTINATION "${DEST}" USE_SOURCE_PERMISSIONS)
