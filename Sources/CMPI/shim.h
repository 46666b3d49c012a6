// Open MPI (https://www.open-mpi.org), for CNNDistributed's data-parallel training.
#ifndef CNNKIT_CMPI_SHIM_H
#define CNNKIT_CMPI_SHIM_H

#include <mpi.h>

// MPI's predefined handles are macros over the addresses of library globals
// (`((MPI_Comm) &ompi_mpi_comm_world)`), which Swift cannot import; these functions return them.
static inline MPI_Comm cnnkit_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cnnkit_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cnnkit_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cnnkit_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op cnnkit_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cnnkit_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op cnnkit_mpi_max(void) { return MPI_MAX; }
static inline void *cnnkit_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler cnnkit_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cnnkit_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Request cnnkit_mpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cnnkit_mpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }

#endif
